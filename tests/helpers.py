"""Shared test helpers: small models, and snapshots proving a call left the model untouched."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

requires_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)


def forbid_network(monkeypatch) -> None:
    """Make every attempt to open a network connection fail, for the rest of the test."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the code tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def hook_count(model: nn.Module) -> int:
    """All forward, forward-pre and backward hooks registered on any module of the model."""
    return sum(
        len(m._forward_hooks)
        + len(m._forward_pre_hooks)
        + len(m._backward_hooks)
        + len(getattr(m, "_backward_pre_hooks", {}))
        for m in model.modules()
    )


def snapshot(model: nn.Module) -> dict:
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "grads": [
            None if p.grad is None else p.grad.clone() for p in model.parameters()
        ],
        "hooks": hook_count(model),
        "modules": [type(m) for m in model.modules()],
    }


def assert_untouched(model: nn.Module, before: dict) -> None:
    """The model's modes, flags, parameters, buffers, .grad and hooks equal the snapshot."""
    after = snapshot(model)
    assert after["training"] == before["training"], "training mode changed"
    assert after["requires_grad"] == before["requires_grad"], (
        "requires_grad flags changed"
    )
    assert after["hooks"] == before["hooks"], "hooks were left behind"
    assert after["modules"] == before["modules"], "modules were replaced"
    assert after["state"].keys() == before["state"].keys()
    for k, v in before["state"].items():
        assert torch.equal(after["state"][k], v), f"parameter or buffer {k} changed"
    for g_after, g_before in zip(after["grads"], before["grads"]):
        assert (g_after is None) == (g_before is None), "parameter .grad changed"
        if g_after is not None:
            assert torch.equal(g_after, g_before), "parameter .grad changed"


@functools.cache
def torchvision_model(name: str, classes: int = 10) -> nn.Module:
    """A randomly initialized torchvision model (weights=None: nothing downloads) in eval mode.

    Built once per test session, since VGG's initialization takes seconds; tests must leave it as found.
    """
    import torchvision

    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None, num_classes=classes).eval()


def relu_mlp(
    d_in: int = 6, hidden: int = 16, classes: int = 4, bias: bool = True, seed: int = 0
) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(d_in, hidden, bias=bias),
        nn.ReLU(),
        nn.Linear(hidden, hidden, bias=bias),
        nn.ReLU(),
        nn.Linear(hidden, classes, bias=bias),
    ).double()


def small_cnn(
    channels: int = 3, classes: int = 5, seed: int = 0, inplace: bool = False
) -> nn.Module:
    """Conv-ReLU-MaxPool-Conv-ReLU-AvgPool-Linear for 16x16 images, float64."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1),
        nn.ReLU(inplace=inplace),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(inplace=inplace),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32, classes),
    ).double()
