"""xl.attribute_dataset and xl.metrics.mean_over: a dataset explained and scored batch by batch.

The contract: one map per batch, equal to calling the method on that batch; targets
"predicted", "label" or an int; resumable with ``start``; the model's device restored; the
streamed mean and standard error equal those of all the scores at once.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import xai_lib as xl
from xai_lib.analysis.streaming import RunningMean
from xai_lib.methods.dataset import on_device

from .helpers import assert_untouched, requires_cuda, small_cnn, snapshot

CASES = {
    "saliency": {},
    "integrated_gradients": {"steps": 8},
    "smoothgrad": {"n": 4, "seed": 3},
    "occlusion": {"patch": 4},
    "rise": {"n_masks": 16, "seed": 1},
    "grad_cam": {},
}


def data(n: int = 10, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, dtype=torch.float64, generator=g)
    y = torch.randint(0, 5, (n,), generator=g)
    return x, y


def loader(x, y, batch_size: int = 4):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("target", ["predicted", "label", 2])
def test_equals_the_method_batch_by_batch(name, target):
    model, (x, y) = small_cnn(), data()
    before = snapshot(model)
    maps = list(
        xl.attribute_dataset(name, model, loader(x, y), target=target, **CASES[name])
    )
    assert [len(a) for a in maps] == [4, 4, 2]
    for a, start in zip(maps, (0, 4, 8)):
        xb, yb = x[start : start + 4], y[start : start + 4]
        t = {"predicted": None, "label": yb}.get(target, target)
        expected = xl.METHODS[name](model, xb, t, **CASES[name])
        assert torch.equal(a, expected)
    assert_untouched(model, before)


def test_batches_of_x_alone_any_iterable_and_a_function_as_method():
    model, (x, _) = small_cnn(), data(9)
    parts = list(x.split(4))

    def doubled(model, x, target=None):
        return 2 * xl.saliency(model, x, target)

    from_list = list(xl.attribute_dataset(doubled, model, parts, target=1))
    from_generator = list(xl.attribute_dataset("saliency", model, (p for p in parts)))
    for a, b, p in zip(from_list, from_generator, parts):
        assert torch.equal(a, 2 * xl.saliency(model, p, 1))
        assert torch.equal(b, xl.saliency(model, p))
    # (x, y, extra) batches: the extra items are ignored
    triples = [(p, torch.zeros(len(p), dtype=torch.long), "ids") for p in parts]
    for a, p in zip(
        xl.attribute_dataset("saliency", model, triples, target="label"), parts
    ):
        assert torch.equal(a, xl.saliency(model, p, 0))


def test_start_resumes_after_the_skipped_batches():
    model, (x, y) = small_cnn(), data(14)
    full = list(xl.attribute_dataset("saliency", model, loader(x, y)))
    resumed = list(xl.attribute_dataset("saliency", model, loader(x, y), start=2))
    assert len(resumed) == len(full) - 2
    for a, b in zip(resumed, full[2:]):
        assert torch.equal(a, b)
    assert list(xl.attribute_dataset("saliency", model, loader(x, y), start=10)) == []


def test_nothing_runs_until_iterated_and_each_batch_is_explained_once():
    model, (x, y) = small_cnn(), data(8)
    seen = []
    hook = model.register_forward_hook(lambda m, args, out: seen.append(len(args[0])))
    try:
        stream = xl.attribute_dataset("saliency", model, loader(x, y), target="label")
        assert seen == []
        next(stream)
        assert sum(seen) == 4  # the given labels need no forward pass for the target
        stream.close()
    finally:
        hook.remove()


def test_errors_name_the_problem():
    model, (x, _) = small_cnn(), data(4)
    with pytest.raises(ValueError, match="unknown method"):
        xl.attribute_dataset("nope", model, [x])
    with pytest.raises(ValueError, match="target must be"):
        xl.attribute_dataset("saliency", model, [x], target="labels")
    with pytest.raises(ValueError, match="target must be"):
        xl.attribute_dataset("saliency", model, [x], target=-1)
    with pytest.raises(ValueError, match="target must be"):
        xl.attribute_dataset("saliency", model, [x], target=True)
    with pytest.raises(ValueError, match="batches must be an iterable"):
        xl.attribute_dataset("saliency", model, x)
    with pytest.raises(ValueError, match="batches must be an iterable"):
        xl.attribute_dataset("saliency", model, 3)
    with pytest.raises(ValueError, match="start must be"):
        xl.attribute_dataset("saliency", model, [x], start=-1)
    with pytest.raises(ValueError, match="progress must be True or False"):
        xl.attribute_dataset("saliency", model, [x], progress="yes")
    with pytest.raises(ValueError, match="model must be"):
        xl.attribute_dataset("saliency", lambda z: z, [x])
    with pytest.raises(ValueError, match="device must be"):
        xl.attribute_dataset("saliency", model, [x], device="gpu7")
    with pytest.raises(ValueError, match="device must be"):
        xl.metrics.mean_over([x], model, "deletion", "saliency", device=3.5)
    with pytest.raises(ValueError, match="needs \\(x, y\\) batches, but batch 0"):
        next(xl.attribute_dataset("saliency", model, [x], target="label"))
    with pytest.raises(ValueError, match="batch 1 must be a tensor"):
        list(xl.attribute_dataset("saliency", model, [x, "not a batch"]))


def test_device_cpu_keeps_everything_in_place():
    model, (x, y) = small_cnn(), data(8)
    maps = list(xl.attribute_dataset("saliency", model, loader(x, y), device="cpu"))
    assert all(a.device.type == "cpu" for a in maps)
    assert torch.equal(torch.cat(maps), xl.saliency(model, x))


@requires_cuda
def test_on_cuda_the_model_goes_there_and_comes_back():
    model, (x, y) = small_cnn(), data(8)
    expected = [xl.integrated_gradients(model, p, 1, steps=8) for p in x.split(4)]
    stream = xl.attribute_dataset(
        "integrated_gradients", model, loader(x, y), target=1, device="cuda", steps=8
    )
    maps = list(stream)
    assert next(model.parameters()).device.type == "cpu"
    for a, b in zip(maps, expected):
        assert a.device.type == "cuda"
        torch.testing.assert_close(a.cpu(), b, rtol=1e-7, atol=1e-9)
    # closed early, or failing on a batch: the model is back on the CPU either way
    stream = xl.attribute_dataset("saliency", model, loader(x, y), device="cuda")
    next(stream)
    assert next(model.parameters()).device.type == "cuda"
    stream.close()
    assert next(model.parameters()).device.type == "cpu"
    with pytest.raises(ValueError):
        list(xl.attribute_dataset("saliency", model, [x, "bad"], device="cuda"))
    assert next(model.parameters()).device.type == "cpu"


@requires_cuda
def test_a_model_on_two_devices_is_restored_piece_by_piece():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    model[1].cuda()
    with on_device(model, "cuda"):
        assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert [p.device.type for p in model.parameters()] == ["cpu", "cpu", "cuda", "cuda"]


def test_on_device_none_and_same_device_move_nothing():
    model = small_cnn()
    weight = model[0].weight
    with on_device(model, None):
        pass
    with on_device(model, "cpu"):
        assert model[0].weight is weight
    assert model[0].weight is weight


def test_a_move_that_fails_is_undone():
    """The model is sent back also when ``model.to(device)`` itself fails (half-way, say)."""
    model, calls = small_cnn(), []

    def to(device):
        calls.append(torch.device(device).type)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return model

    model.to = to  # the move and the way back, as on_device calls them
    with pytest.raises(RuntimeError, match="out of memory"):
        with on_device(model, "meta"):
            pass
    assert calls == ["meta", "cpu"]


def test_batches_whose_second_item_is_not_labels():
    """(x, paths) or (x, {ids}) batches: the second item matters only for target='label'."""
    model, (x, _) = small_cnn(), data(4)
    for second in (["a.png", "b.png", "c.png", "d.png"], {"id": [1, 2, 3, 4]}):
        (maps,) = xl.attribute_dataset("saliency", model, [(x, second)], progress=False)
        torch.testing.assert_close(maps, xl.saliency(model, x))
        scores = xl.metrics.mean_over(
            [(x, second)], model, "deletion", "saliency", progress=False
        )
        assert scores.n == 4
        with pytest.raises(ValueError, match="batch 0 .* not a sequence of class"):
            list(
                xl.attribute_dataset(
                    "saliency", model, [(x, second)], target="label", progress=False
                )
            )


# --------------------------------------------------------------------------- mean_over


def test_mean_over_equals_the_mean_of_all_scores():
    model, (x, y) = small_cnn(), data(11)
    result = xl.metrics.mean_over(
        loader(x, y),
        model,
        "deletion",
        "saliency",
        target="label",
        metric_options={"steps": 8},
        return_scores=True,
    )
    scores = torch.cat(
        [
            xl.metrics.deletion(model, xb, xl.saliency(model, xb, yb), yb, steps=8)
            for xb, yb in zip(x.split(4), y.split(4))
        ]
    )
    assert torch.equal(result.scores, scores)
    assert result.n == 11 and result.undefined == 0
    assert result.mean == pytest.approx(scores.mean().item(), rel=1e-12)
    assert result.sem == pytest.approx(
        scores.std().item() / math.sqrt(len(scores)), rel=1e-10
    )


def test_mean_over_predicted_gives_method_and_metric_the_same_class():
    model, (x, y) = small_cnn(), data(8)
    seen = []

    def metric(model, x, attribution, target):
        seen.append(target)
        return attribution.flatten(1).sum(1)

    def method(model, x, target=None):
        assert target is not None  # resolved once, for both
        return xl.saliency(model, x, target)

    result = xl.metrics.mean_over(loader(x, y), model, metric, method)
    predicted = xl.predict(model, x).argmax(1)
    assert torch.equal(torch.cat(seen), predicted)
    expected = xl.saliency(model, x, predicted).flatten(1).sum(1)
    assert result.mean == pytest.approx(expected.mean().item(), rel=1e-10)


def test_mean_over_sensitivity_max_and_infidelity_by_name():
    model, (x, _) = small_cnn(), data(6)
    stable = xl.metrics.mean_over(
        [x],
        model,
        "sensitivity_max",
        "saliency",
        target=1,
        metric_options={"n": 3, "seed": 0},
    )
    direct = xl.metrics.sensitivity_max("saliency", model, x, 1, n=3, seed=0)
    assert stable.mean == pytest.approx(direct.mean().item(), rel=1e-12)
    faithful = xl.metrics.mean_over(
        [x], model, "infidelity", "saliency", target=1, metric_options={"seed": 0}
    )
    direct = xl.metrics.infidelity(model, x, xl.saliency(model, x, 1), 1, seed=0)
    assert faithful.mean == pytest.approx(direct.mean().item(), rel=1e-12)


def test_mean_over_sensitivity_max_gives_each_options_to_its_owner():
    """method_options go to the method on every perturbed copy, metric_options to the metric."""
    model, (x, _) = small_cnn(), data(4)
    method = {"n": 4, "seed": 0}
    metric = {"n": 2, "seed": 1, "radius": 0.05}
    streamed = xl.metrics.mean_over(
        [x[:2], x[2:]],
        model,
        "sensitivity_max",
        "smoothgrad",
        target=1,
        progress=False,
        method_options=method,
        metric_options=metric,
        return_scores=True,
    )

    def seeded_smoothgrad(m, inputs, target):
        return xl.smoothgrad(m, inputs, target, **method)

    direct = torch.cat(
        [
            xl.metrics.sensitivity_max(seeded_smoothgrad, model, part, 1, **metric)
            for part in (x[:2], x[2:])
        ]
    )
    torch.testing.assert_close(streamed.scores, direct)


def test_mean_over_leaves_out_nan_scores_and_says_so():
    model, (x, _) = small_cnn(), data(6)

    def metric(model, x, attribution, target):
        scores = torch.arange(len(x), dtype=torch.float64)
        scores[0] = math.nan
        return scores

    with pytest.warns(xl.DegenerateMapWarning, match="2 of 6 samples scored NaN"):
        result = xl.metrics.mean_over(
            x.split(3), model, metric, "saliency", target=0, progress=False
        )
    assert result.n == 4 and result.undefined == 2
    assert result.mean == pytest.approx((1 + 2 + 1 + 2) / 4)
    assert result.scores is None


def test_mean_over_errors():
    model, (x, _) = small_cnn(), data(4)
    with pytest.raises(ValueError, match="metric must be one of"):
        xl.metrics.mean_over([x], model, "accuracy", "saliency")
    with pytest.raises(ValueError, match="metric must be a name or a function"):
        xl.metrics.mean_over([x], model, 3, "saliency")
    with pytest.raises(ValueError, match="one score per sample"):
        xl.metrics.mean_over(
            [x], model, lambda m, x, a, t: a.sum(), "saliency", target=0
        )
    with pytest.raises(ValueError, match="unknown method"):
        xl.metrics.mean_over([x], model, "deletion", "nope")


def test_running_mean_matches_the_two_pass_formulas():
    g = torch.Generator().manual_seed(0)
    values = 1e6 + torch.randn(1000, dtype=torch.float64, generator=g)
    running = RunningMean()
    for part in values.split([1, 7, 300, 2, 690]):
        running.add(part)
    assert running.n == 1000
    assert running.mean == pytest.approx(values.mean().item(), rel=1e-15)
    assert running.sem == pytest.approx(values.std().item() / math.sqrt(1000), rel=1e-9)
    single = RunningMean()
    single.add(torch.tensor([2.0]))
    assert single.mean == 2.0 and math.isnan(single.sem)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = RunningMean()
        assert empty.n == 0 and math.isnan(empty.sem)
