"""PassCounter: the model counting the images it runs forwards and backwards."""

import math

import pytest
import torch
from torch import nn

import xai_lib as xl
from xai_lib.models import PassCounter


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3)
    ).double()


def test_the_counter_computes_what_the_model_computes():
    model = small_cnn()
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    counter = PassCounter(model)
    assert counter.model is model
    torch.testing.assert_close(counter(x), model(x), rtol=0, atol=0)
    torch.testing.assert_close(
        xl.saliency(counter, x, 1), xl.saliency(model, x, 1), rtol=0, atol=0
    )


def test_saliency_costs_one_forward_and_one_backward_pass_per_image():
    counter = PassCounter(small_cnn())
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    xl.saliency(counter, x, torch.zeros(6, dtype=torch.long))
    assert counter.per_image(6) == (1.0, 1.0)
    assert "forwards=6, backwards=6" in repr(counter)


@pytest.mark.parametrize("batch_size", [1, 4, None])
def test_occlusion_costs_one_pass_per_window_plus_one_whatever_the_batching(batch_size):
    counter = PassCounter(small_cnn())
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    xl.occlusion(counter, x, 0, patch=4, stride=2, batch_size=batch_size)
    windows = (math.ceil((8 - 4) / 2) + 1) ** 2
    assert counter.forwards == 2 * (1 + windows)
    assert counter.backwards == 0  # a black-box method: no gradient


def test_integrated_gradients_costs_one_backward_pass_per_step():
    counter = PassCounter(small_cnn())
    x = torch.randn(3, 1, 8, 8, dtype=torch.float64)
    xl.integrated_gradients(counter, x, 0, steps=16)
    forwards, backwards = counter.per_image(3)
    assert (
        backwards == 16 and 16 <= forwards <= 18
    )  # the steps (+ the ends, if checked)


def test_reset_and_no_grad_calls():
    counter = PassCounter(small_cnn())
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        counter(x)
    assert (counter.forwards, counter.backwards) == (4, 0)
    assert counter.reset() is counter and counter.forwards == counter.backwards == 0


def test_the_counter_changes_nothing_in_the_model():
    model = small_cnn().train()
    model[0].eval()  # a mixed state, which the wrapper must not overwrite
    state = {k: v.clone() for k, v in model.state_dict().items()}
    counter = PassCounter(model)
    assert counter.training and model.training and not model[0].training
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    xl.gradient_x_input(counter, x, 0)
    assert model.training and not model[0].training
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key])
    assert not model._forward_hooks and not model._backward_hooks


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: PassCounter("model"), "nn.Module"),
        (lambda: PassCounter(small_cnn())(3.0), "batch dimension"),
        (lambda: PassCounter(small_cnn()).per_image(0), "positive"),
        (lambda: PassCounter(small_cnn()).per_image(True), "positive"),
    ],
)
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
