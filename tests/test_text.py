"""xl.text: token scores from embedding attributions, and sentences drawn in colour."""

import re

import matplotlib
import pytest
import torch
from captum.attr import InputXGradient
from torch import nn

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import xai_lib as xl  # noqa: E402
from tests.helpers import assert_untouched, snapshot  # noqa: E402
from xai_lib import data, models, text, viz  # noqa: E402


class BagOfEmbeddings(nn.Module):
    """Mean of the token embeddings, then a bias-free Linear: linear in the embeddings."""

    def __init__(self, vocab_size=12, embed_dim=5, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.fc = nn.Linear(embed_dim, classes, bias=False)

    def embed(self, tokens):
        return self.embedding(tokens)

    def forward(self, embeddings):
        return self.fc(embeddings.mean(dim=1))  # (N, T, E) -> (N, E) -> (N, classes)


@pytest.fixture
def bag():
    torch.manual_seed(0)
    model = BagOfEmbeddings().double().eval()
    tokens = torch.tensor([[3, 4, 5, 0], [7, 2, 9, 11]])
    return model, tokens


@pytest.fixture
def text_cnn():
    torch.manual_seed(0)
    model = (
        models.TextClassifier(len(data.VOCABULARY), embed_dim=8, channels=6)
        .double()
        .eval()
    )
    return model, data.encode(["i am really happy", "this movie was not good"])


def test_token_scores_pool_the_embedding_dimension():
    a = torch.randn(
        3, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(text.token_scores(a), a.sum(-1))
    torch.testing.assert_close(text.token_scores(a, "l2"), a.norm(dim=-1))
    torch.testing.assert_close(text.token_scores(a, "max_abs"), a.abs().amax(-1))
    torch.testing.assert_close(text.token_scores(a, "abs_sum"), a.abs().sum(-1))


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.zeros(2, 3), r"\(N, T, E\)"),
        (torch.zeros(2, 3, 4, 5), r"\(N, T, E\)"),
        (torch.zeros(2, 3, 4, dtype=torch.long), "floating-point"),
        (torch.full((1, 2, 2), float("nan")), "NaN"),
    ],
)
def test_token_scores_rejects_bad_attributions(bad, match):
    with pytest.raises(ValueError, match=match):
        text.token_scores(bad)


def test_token_scores_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="how must be one of"):
        text.token_scores(torch.zeros(1, 2, 3), "mean")


def test_gradient_x_input_per_token_is_the_exact_share_of_a_linear_model(bag):
    model, tokens = bag
    scores = text.token_attributions(model, tokens, target=1)
    embeddings = model.embed(tokens).detach()
    # f = w . mean_t e_t: token t's exact share is w . e_t / T, and the shares add up to f
    expected = embeddings @ model.fc.weight[1].detach() / tokens.shape[1]
    torch.testing.assert_close(scores, expected)
    torch.testing.assert_close(scores.sum(1), model(embeddings)[:, 1].detach())
    assert torch.all(scores[0, 3] == 0), (
        "the padding token embeds to zeros and gets nothing"
    )


def test_matches_captum_on_the_embeddings(text_cnn):
    model, tokens = text_cnn
    embeddings = model.embed(tokens).detach()
    theirs = (
        InputXGradient(model).attribute(embeddings.requires_grad_(), target=1).sum(-1)
    )
    torch.testing.assert_close(
        text.token_attributions(model, tokens, 1), theirs, rtol=0, atol=1e-12
    )


def test_any_method_by_name_or_function_with_its_options(text_cnn):
    model, tokens = text_cnn
    embeddings = model.embed(tokens).detach()
    saliency = text.token_attributions(model, tokens, 0, method="saliency", how="l2")
    torch.testing.assert_close(saliency, xl.saliency(model, embeddings, 0).norm(dim=-1))
    ig = text.token_attributions(
        model, tokens, 0, method=xl.integrated_gradients, steps=8
    )
    torch.testing.assert_close(
        ig, xl.integrated_gradients(model, embeddings, 0, steps=8).sum(-1)
    )


def test_default_target_is_the_prediction(text_cnn):
    model, tokens = text_cnn
    predicted = model(tokens).argmax(1)
    torch.testing.assert_close(
        text.token_attributions(model, tokens),
        text.token_attributions(model, tokens, predicted),
    )


def test_a_custom_embed_function(bag):
    model, tokens = bag
    table = model.embedding
    wrapped = nn.Sequential(
        model
    )  # a model without embed(): the embedding comes from outside
    scores = text.token_attributions(wrapped, tokens, 1, embed=table)
    torch.testing.assert_close(scores, text.token_attributions(model, tokens, 1))


def test_bad_calls_raise_and_leave_the_model_untouched(text_cnn):
    model, tokens = text_cnn
    before = snapshot(model)
    with pytest.raises(ValueError, match="integer tensor of token ids"):
        text.token_attributions(model, tokens.double())
    with pytest.raises(ValueError, match="integer tensor of token ids"):
        text.token_attributions(model, tokens[0])
    with pytest.raises(ValueError, match="unknown method"):
        text.token_attributions(model, tokens, method="no_such_method")
    with pytest.raises(ValueError, match="how must be one of"):
        text.token_attributions(model, tokens, how="mean")
    with pytest.raises(ValueError, match="out of range"):
        text.token_attributions(model, tokens, target=5)
    with pytest.raises(ValueError, match="no embed"):
        text.token_attributions(nn.Sequential(nn.Flatten()), tokens)
    with pytest.raises(ValueError, match=r"embeddings \(N, T, E\)"):
        text.token_attributions(model, tokens, embed=lambda t: t.double())
    assert_untouched(model, before)


def test_works_inside_no_grad_and_leaves_the_model_untouched(text_cnn):
    model, tokens = text_cnn
    before = snapshot(model)
    expected = text.token_attributions(model, tokens, 1)
    with torch.no_grad():
        torch.testing.assert_close(text.token_attributions(model, tokens, 1), expected)
    assert_untouched(model, before)


def test_tokens_html_colours_each_word_by_its_score():
    page = viz.tokens_html(["good", "<b>", "bad"], [1.0, 0.0, -1.0])
    colours = [
        tuple(map(int, c))
        for c in re.findall(r"background:rgb\((\d+),(\d+),(\d+)\)", page)
    ]
    assert len(colours) == 3
    (r1, _, b1), (r2, g2, b2), (r3, _, b3) = colours
    assert r1 > 200 and b1 < 60, "a positive score is red"
    assert min(r2, g2, b2) > 240, "zero is white"
    assert b3 > 200 and r3 < 60, "a negative score is blue"
    assert "&lt;b&gt;" in page and "<b>" not in page, "words are escaped"
    assert 'title="+1"' in page and 'title="-1"' in page


def test_a_shared_limit_makes_sentences_comparable():
    weak = viz.tokens_html(["ok"], [0.5], limit=1.0)
    strong = viz.tokens_html(["ok"], [0.5])  # its own largest score: full colour
    assert weak != strong


@pytest.mark.parametrize(
    "words, scores, limit, match",
    [
        (["a", "b"], [1.0], None, "one score per word"),
        (["a", 3], [1.0, 2.0], None, "strings"),
        (["a"], [float("inf")], None, "NaN or infinite"),
        (["a"], [1.0], 0.0, "limit must be"),
    ],
)
def test_tokens_html_rejects_bad_arguments(words, scores, limit, match):
    with pytest.raises(ValueError, match=match):
        viz.tokens_html(words, scores, limit=limit)


def test_draw_tokens_writes_every_word_and_returns_the_colour_scale():
    fig, ax = plt.subplots()
    scale = viz.draw_tokens(
        ["i", "am", "happy"], [0.1, -0.2, 0.8], ax, title="sentence"
    )
    assert [t.get_text() for t in ax.texts] == ["i", "am", "happy"]
    assert scale.norm.vmin == -0.8 and scale.norm.vmax == 0.8
    assert ax.get_title(loc="left") == "sentence"
    assert all(0 < t.get_position()[0] < 1 for t in ax.texts)
    fig.colorbar(scale, ax=ax)
    plt.close(fig)
    fig, ax = plt.subplots()
    assert viz.draw_tokens(["x"], [0.0], ax, limit=2.0).norm.vmax == 2.0
    plt.close(fig)


def test_unsigned_scores_get_the_upper_half_of_the_scale():
    fig, ax = plt.subplots()
    scale = viz.draw_tokens(["a", "b"], [0.5, 2.0], ax)
    assert (scale.norm.vmin, scale.norm.vmax) == (0.0, 2.0)
    top = scale.to_rgba(2.0)
    box = ax.texts[1].get_bbox_patch().get_facecolor()
    assert max(abs(p - q) for p, q in zip(top, box)) < 0.02, (
        "the colour bar's top is the box colour of the largest score"
    )
    assert scale.to_rgba(0.0)[:3] == pytest.approx((1.0, 1.0, 1.0), abs=0.02), (
        "zero is white"
    )
    assert viz.draw_tokens(["a"], [0.5], ax, signed=True).norm.vmin == -0.5
    plt.close(fig)


def test_a_common_width_aligns_sentences():
    sentences = [["i", "am", "happy"], ["this", "movie", "was", "not", "good"]]
    width = viz.sentence_width(sentences)
    assert (
        width == len("this") + len("movie") + len("was") + len("not") + len("good") + 6
    )
    fig, (top, bottom) = plt.subplots(2)
    viz.draw_tokens(sentences[0], [1.0, 1.0, 1.0], top, width=width)
    viz.draw_tokens(sentences[1], [1.0] * 5, bottom, width=width)
    assert top.texts[0].get_position()[0] == pytest.approx(
        bottom.texts[0].get_position()[0] * 1.5 / 3
    )
    assert top.texts[-1].get_position()[0] < 0.5, (
        "the short sentence does not stretch over the line"
    )
    with pytest.raises(ValueError, match="width must be"):
        viz.draw_tokens(sentences[1], [1.0] * 5, bottom, width=5)
    plt.close(fig)
