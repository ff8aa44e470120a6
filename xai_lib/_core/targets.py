"""From the user's ``target`` to one class index per sample, and the model's outputs.

* :func:`as_target_tensor`: None, an int, a sequence or a LongTensor -> LongTensor (N,) or None;
* :func:`select_outputs`: pick f_target from outputs (N, K), None meaning the argmax;
* :func:`resolve_target`: the argmax on x when no target is given (a given target costs no
  forward pass: its range is checked where the outputs are known, in :func:`select_outputs`);
* :func:`run_model`: the one place a method calls the model: on a copy of its input (a model
  that writes its input in place, ``x.sub_(0.5)``, writes the copy) and with its output checked
  (a tuple or a dict is a ValueError naming :func:`pick_output`);
* :func:`pick_output`: a model returning several outputs -> the one to explain;
* :func:`predict`: the model's outputs without gradients, in chunks, inside the guard;
* :func:`gradient`: d f_target / d x for a batch, parameters' ``.grad`` untouched.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .batching import batches
from .guard import preserved
from .validation import check_differentiable

#: Class indices are int64: targets lie in [0, TARGET_LIMIT).
TARGET_LIMIT = 2**63

_TARGET_FORMS = "None, an int, a sequence of ints or an integer tensor"


def _check_class_index(value: int) -> int:
    if value < 0:
        raise ValueError(f"target holds a negative class index: {value}")
    if value >= TARGET_LIMIT:
        raise ValueError(
            f"target {value} is out of range: class indices are int64, below 2**63"
        )
    return value


def as_target_tensor(target, n: int, device) -> torch.Tensor | None:
    """Validate the user's target's type and length -> LongTensor (n,), or None for argmax.

    An int (numpy integers too) is the same class for every sample; a sequence or a 0-/1-D
    integer tensor (on any device) gives one class per sample. The range against the number of
    classes is checked where the outputs are known (:func:`select_outputs`), so a given target
    costs no forward pass.
    """
    if target is None:
        return None
    if isinstance(target, bool):
        raise ValueError(f"target must be {_TARGET_FORMS}, got a bool")
    if isinstance(target, numbers.Integral):
        t = torch.full((n,), _check_class_index(int(target)), dtype=torch.long)
    elif isinstance(target, torch.Tensor):
        if (
            target.is_floating_point()
            or target.is_complex()
            or target.dtype == torch.bool
        ):
            raise ValueError(
                f"target tensor must hold integer class indices, got dtype {target.dtype}"
            )
        if target.device.type == "meta":
            raise ValueError("target is a meta tensor, which holds no class indices")
        if target.dim() > 1:
            raise ValueError(
                f"target tensor must be 0- or 1-dimensional, got shape {tuple(target.shape)}"
            )
        t = target.reshape(-1)
        if t.numel() == 1:
            t = t.expand(n)
        t = t.long()
    elif isinstance(target, Sequence) and not isinstance(target, (str, bytes)):
        values = list(target)
        if not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(f"target sequence must hold ints, got {values!r}")
        t = torch.tensor([_check_class_index(int(v)) for v in values], dtype=torch.long)
    else:
        raise ValueError(f"target must be {_TARGET_FORMS}, got {target!r}")
    if t.numel() != n:
        raise ValueError(f"target has {t.numel()} entries but x holds {n} samples")
    t = t.to(device)
    if t.numel() and int(t.min()) < 0:
        raise ValueError(f"target holds negative class indices: {t.tolist()}")
    return t


class PickOutput(nn.Module):
    """A model that returns one output of another: ``model(x)[which]`` (or its attribute).

    Built by :func:`pick_output`. The wrapped model is the submodule ``model``, so its layers
    are named ``"model.<name>"`` (give ``grad_cam`` the layer itself, or that name).
    """

    def __init__(self, model: nn.Module, which) -> None:
        super().__init__()
        self.model = model
        self.which = which

    def forward(self, *args, **kwargs):
        output = self.model(*args, **kwargs)
        which = self.which
        try:
            if isinstance(which, str) and not isinstance(output, Mapping):
                return getattr(output, which)
            return output[which]
        except (KeyError, IndexError, AttributeError, TypeError):
            raise ValueError(
                f"pick_output: the model's output, {_describe(output)}, has no element "
                f"{which!r}"
            ) from None

    def extra_repr(self) -> str:
        return f"which={self.which!r}"


def pick_output(model: nn.Module, which) -> PickOutput:
    """The model with one of its outputs picked: ``which`` an index or a key/attribute name.

    For models whose forward returns a tuple, list or dict (or an object such as a
    HuggingFace ``ModelOutput``): ``xl.saliency(xl.pick_output(model, 0), x)`` explains the
    first output, ``xl.pick_output(model, "logits")`` the ``logits`` entry or attribute.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(which, bool) or not isinstance(which, (int, str)):
        raise ValueError(
            f"which must be an index (int) or a key / attribute name (str), got {which!r}"
        )
    return PickOutput(model, which)


def _describe(output) -> str:
    if isinstance(output, (tuple, list)):
        return f"a {type(output).__name__} of {len(output)} elements"
    if isinstance(output, Mapping):
        keys = ", ".join(map(repr, list(output)[:6]))
        return f"a {type(output).__name__} with keys {keys}"
    return f"a {type(output).__name__}"


def check_output(output) -> torch.Tensor:
    """The model's output if it is one tensor, else a ValueError naming :func:`pick_output`."""
    if isinstance(output, torch.Tensor):
        return output
    raise ValueError(
        f"the model returned {_describe(output)}, not one tensor; xai_lib explains a model "
        "whose forward returns one tensor of outputs (N, classes). Pick the output to explain "
        "with xl.pick_output(model, which): an index (0 for a tuple's first element) or a key "
        "or attribute name (e.g. 'logits')"
    )


def run_model(
    model: nn.Module, inputs: torch.Tensor, *, copy: bool = True
) -> torch.Tensor:
    """model(inputs) on a copy of ``inputs``, its output checked to be one tensor.

    The copy keeps every tensor of the caller and of the method as it was, whatever the
    model does to its input (``x.sub_(0.5)`` in forward writes the copy); it also turns an
    inference tensor into a normal one. Gradients flow through the copy to ``inputs``.
    ``copy=False`` is for inputs built for this one forward pass (a masked batch), which the
    model may write freely.
    """
    return check_output(model(inputs.clone() if copy else inputs))


def check_target_range(target: torch.Tensor, classes: int) -> torch.Tensor:
    """A ValueError when a class index of ``target`` is not below ``classes``."""
    if target.numel() and int(target.max()) >= classes:
        raise ValueError(
            f"target {int(target.max())} is out of range: the model has {classes} outputs"
        )
    return target


def select_outputs(
    output: torch.Tensor, target: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick f_target from the model output (N, K). None: the argmax per sample.

    Returns (selected (N,), target (N,)).
    """
    output = check_output(output)
    if output.dim() == 1:
        output = output[:, None]  # a scalar-output model: one "class"
    if output.dim() != 2:
        raise ValueError(
            f"the model must return (N, classes) outputs, got shape {tuple(output.shape)}"
        )
    if not output.is_floating_point():
        raise ValueError(
            f"the model must return floating-point outputs, got dtype {output.dtype}"
        )
    if target is None:
        target = output.detach().argmax(dim=1)
    elif target.is_inference():
        target = (
            target.clone()
        )  # made under torch.inference_mode: a copy autograd can save
    check_target_range(target, output.shape[1])
    target = target.to(output.device)
    return output.gather(1, target[:, None])[:, 0], target


def resolve_target(
    model: nn.Module, x: torch.Tensor, target, batch_size: int | None = None
) -> torch.Tensor:
    """The user's target -> LongTensor (N,); None means the model's argmax on x.

    A given target is validated without running the model: its range against the number of
    outputs is checked by :func:`select_outputs`, where the outputs are computed anyway (code
    that indexes outputs itself calls :func:`check_target_range`).
    """
    t = as_target_tensor(target, x.shape[0], x.device)
    if t is not None:
        return t
    return select_outputs(predict(model, x, batch_size), None)[1]


def predict(
    model: nn.Module, x: torch.Tensor, batch_size: int | None = None
) -> torch.Tensor:
    """The model's outputs on x without gradients, in chunks of at most batch_size samples.

    Runs inside :func:`~xai_lib._core.guard.preserved`, like every method: in eval mode, with
    the model's flags and buffers restored afterwards, x never written.
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[0] == 0:
        raise ValueError("x must be a non-empty batch-first torch.Tensor")
    with preserved(model) as model, torch.no_grad():
        chunks = batches(1, x.shape[0], batch_size, x[0].numel(), x.device)
        return torch.cat([run_model(model, x[chunk.part]) for chunk in chunks])


def gradient(
    model: nn.Module, x: torch.Tensor, target: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """d f_target(x) / d x for a batch, and f_target(x). Works inside torch.no_grad().

    Only the input gets a gradient (torch.autograd.grad), so parameters' .grad stay as they
    were. A model whose output does not depend on x has gradient zero.
    """
    check_differentiable(model)
    with torch.enable_grad():
        leaf = (x.clone() if x.is_inference() else x.detach()).requires_grad_(True)
        selected, _ = select_outputs(run_model(model, leaf), target)
        if not selected.requires_grad:  # a constant model: nothing depends on x
            return torch.zeros_like(leaf).detach(), selected.detach()
        (grad,) = torch.autograd.grad(selected.sum(), leaf, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(leaf)
    return grad.detach(), selected.detach()
