"""The offline datasets: determinism, shapes and ranges, true masks, splits, the sentence grammar."""

import pytest
import torch

from tests.helpers import forbid_network
from xai_lib import data


@pytest.fixture(scope="module")
def shapes_with_background():
    return data.shapes(120, size=32, seed=3, return_background=True)


def test_shapes_are_deterministic_by_seed():
    first, again, other = (
        data.shapes(24, seed=5),
        data.shapes(24, seed=5),
        data.shapes(24, seed=6),
    )
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    assert not torch.equal(first.images, other.images)


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_types_ranges_and_balance(size):
    images, labels, masks = data.shapes(60, size=size, seed=0)
    assert images.shape == (60, 3, size, size) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1
    assert masks.shape == (60, 1, size, size) and masks.dtype == torch.bool
    assert labels.dtype == torch.long
    assert labels.bincount(minlength=len(data.SHAPE_CLASSES)).tolist() == [10] * len(
        data.SHAPE_CLASSES
    )


def test_masks_cover_the_drawn_object(shapes_with_background):
    images, _, masks, backgrounds = shapes_with_background
    changed = (images != backgrounds).any(
        dim=1, keepdim=True
    )  # (N, 1, H, W): where the object was drawn
    assert not (changed & ~masks).any(), "the object changed pixels outside its mask"
    assert torch.equal(
        images[~masks.expand_as(images)], backgrounds[~masks.expand_as(images)]
    )
    # the object shows: inside the mask the image differs clearly from the background
    inside = ((images - backgrounds).abs().mean(1, keepdim=True) * masks).sum(
        (1, 2, 3)
    ) / masks.sum((1, 2, 3))
    assert (inside > 0.1).all()


def test_mask_areas_follow_the_geometry(shapes_with_background):
    _, labels, masks, _ = shapes_with_background
    area = masks.float().mean((1, 2, 3))
    assert (area > 0.02).all() and (area < 0.5).all()
    per_class = {
        name: area[labels == k].mean() for k, name in enumerate(data.SHAPE_CLASSES)
    }
    # a ring is a circle with a hole; a triangle fills less of its circle than a square or a circle
    assert per_class["ring"] < per_class["circle"]
    assert per_class["triangle"] < per_class["square"]


@pytest.mark.parametrize(
    "kwargs", [{"n": 0}, {"n": 4, "size": 8}, {"n": 4, "size": 2.5}, {"n": True}]
)
def test_shapes_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        data.shapes(**kwargs)


def test_train_test_split_is_a_fixed_partition():
    train, test = data.train_test_split(100, 0.2, seed=1)
    assert len(test) == 20 and len(train) == 80
    assert torch.equal(torch.cat([train, test]).sort().values, torch.arange(100))
    again = data.train_test_split(100, 0.2, seed=1)
    assert torch.equal(train, again[0]) and torch.equal(test, again[1])
    with pytest.raises(ValueError, match="test_fraction"):
        data.train_test_split(10, 1.5)


def test_digits_and_their_split():
    images, labels = data.digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert images.min() == 0 and images.max() == 1
    assert set(labels.tolist()) == set(range(10))
    (train_x, train_y), (test_x, test_y) = data.digits("train"), data.digits("test")
    assert len(train_y) + len(test_y) == 1797
    assert torch.equal(torch.cat([train_x, test_x]).sum(), images.sum())
    assert torch.equal(data.digits("test")[0], test_x)
    with pytest.raises(ValueError, match="split"):
        data.digits("validation")


def test_photos_load_offline(monkeypatch):
    forbid_network(monkeypatch)
    photos = data.photos(size=64)
    assert photos.images.shape == (len(data.PHOTO_NAMES), 3, 64, 64)
    assert photos.names == list(data.PHOTO_NAMES)
    assert 0 <= photos.images.min() and photos.images.max() <= 1
    camera = data.photos(size=32, names=["camera"]).images[0]
    assert torch.equal(camera[0], camera[1]) and torch.equal(
        camera[0], camera[2]
    )  # grey: one channel, thrice
    with pytest.raises(ValueError, match="photo name"):
        data.photos(names=["lena"])


def test_sentences_follow_the_grammar():
    everything = data.sentences()
    assert everything.tokens.shape == (len(everything.texts), 6)
    assert everything.labels.float().mean() == 0.5
    label = dict(zip(everything.texts, everything.labels.tolist()))
    assert label["i am really happy"] == 1 and label["this movie was not good"] == 0
    # a negation flips the label of the same sentence without it
    for text, value in label.items():
        for negation in (" not ", " never "):
            if negation in text:
                assert label[text.replace(negation, " ")] == 1 - value


def test_sentence_split_is_disjoint():
    train, test = data.sentences("train"), data.sentences("test")
    assert not set(train.texts) & set(test.texts)
    assert len(train.texts) + len(test.texts) == len(data.sentences().texts)
    assert train.tokens.shape[1] == test.tokens.shape[1]


def test_encode_decode_round_trip():
    texts = ["I am really happy", "this movie was not good at all"]
    tokens = data.encode(texts)
    assert tokens.shape == (2, 7) and tokens[0, 4:].eq(data.PAD_ID).all()
    assert data.decode(tokens) == [
        ["i", "am", "really", "happy"],
        ["this", "movie", "was", "not", "good", data.UNK, data.UNK],
    ]
    assert data.encode(texts, length=3).shape == (2, 3)
    assert (
        data.VOCABULARY[data.PAD_ID] == data.PAD
        and data.VOCABULARY[data.UNK_ID] == data.UNK
    )
    with pytest.raises(ValueError, match="sequence of strings"):
        data.encode("one string")
    with pytest.raises(ValueError, match="token ids"):
        data.decode(torch.tensor([[len(data.VOCABULARY)]]))
