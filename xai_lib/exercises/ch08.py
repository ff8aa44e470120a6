"""Checkers for chapter 8, layer-wise relevance propagation.

* :func:`check_lrp_epsilon`: LRP-epsilon by hand for ``Linear - ReLU - Linear``,
  ``my_lrp_epsilon(model, x, target, eps)``, against ``xl.lrp(model, x, target,
  rules=xl.rules.Epsilon(eps))``, on random MLPs with biases and several epsilons (0 included).
* :func:`check_gamma_layer`: LRP-gamma through one dense layer for a given output relevance,
  ``gamma_layer(a, weight, bias, relevance, gamma)``. The reference is :func:`xai_lib.lrp` on a
  single ``nn.Linear``: explaining output k gives c_jk / z'_k * z_k, so the relevance R_k is
  handed down as the sum over k of that map times R_k / z_k.
"""

from __future__ import annotations

import torch
from torch import nn

from ..relevance import lrp
from ..relevance.rules import Epsilon, Gamma
from .cases import Case, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _mlp_case(generator: torch.Generator) -> tuple:
    """A random Linear(D, H) - ReLU - Linear(H, C) with biases, N inputs, targets and an epsilon."""
    n, d, h = (int(v) for v in torch.randint(3, 7, (3,), generator=generator))
    model = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 3)).double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(
                torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
                / 2
            )
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    target = torch.randint(0, 3, (n,), generator=generator)
    eps = (0.0, 0.1, 1.0)[int(torch.randint(0, 3, (1,), generator=generator))]
    return model.eval(), x, target, eps


def _epsilon_cases() -> list[Case]:
    cases = random_cases(_mlp_case, seeds=(0, 1, 2, 3))
    model, x, target, _ = _mlp_case(torch.Generator().manual_seed(4))
    cases.append(
        Case(model, x, target, 0.5, label="an MLP with eps = 0.5 (a large epsilon)")
    )
    return cases


@checker
def check_lrp_epsilon(my_lrp_epsilon) -> Feedback:
    """``my_lrp_epsilon(model, x, target, eps)``: LRP-epsilon of model(x)[i, target[i]] for
    Linear - ReLU - Linear, starting from R = f_target(x), shaped like x."""
    return check_function(
        my_lrp_epsilon,
        lambda model, x, target, eps: lrp(model, x, target, rules=Epsilon(eps)),
        _epsilon_cases(),
        name="my_lrp_epsilon",
        forbid=(lrp,),
        rtol=1e-6,
        atol=1e-9,
        hint="start with R = f_target(x) at the target output only (zeros elsewhere), not with 1; z_k includes the "
        "bias; the denominator is z_k + eps * sign(z_k) with sign(0) = +1, so it moves away from zero for "
        "negative z_k too; R_j = a_j * sum_k w_jk R_k / denominator_k, first for the top layer (a = the ReLU "
        "outputs), then for the first layer (a = x)",
    )


def _gamma_case(generator: torch.Generator) -> tuple:
    """Non-negative inputs (N, J), a dense layer (K, J) + (K,), output relevance (N, K) and a gamma."""
    n, j, k = (int(v) for v in torch.randint(3, 7, (3,), generator=generator))
    a = torch.rand(
        n, j, generator=generator, dtype=torch.float64
    )  # after a ReLU: a >= 0
    weight = torch.randn(k, j, generator=generator, dtype=torch.float64)
    bias = torch.randn(k, generator=generator, dtype=torch.float64) / 2
    relevance = torch.randn(n, k, generator=generator, dtype=torch.float64)
    gamma = (0.0, 0.25, 1.0)[int(torch.randint(0, 3, (1,), generator=generator))]
    return a, weight, bias, relevance, gamma


def _gamma_reference(a, weight, bias, relevance, gamma):
    """xl.lrp on one nn.Linear, once per output k, recombined for the given output relevance."""
    layer = nn.Linear(weight.shape[1], weight.shape[0]).to(a.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
        z = layer(a)  # (N, K)
    result = torch.zeros_like(a)
    for k in range(weight.shape[0]):
        # explaining output k starts from R_k = z_k: the map is c_jk / z'_k * z_k
        per_output = lrp(layer, a, torch.full((len(a),), k), rules=Gamma(gamma))
        result += per_output * (relevance[:, k] / z[:, k])[:, None]
    return result


@checker
def check_gamma_layer(gamma_layer) -> Feedback:
    """``gamma_layer(a, weight, bias, relevance, gamma)``: the input relevance (N, J) of one dense layer
    under LRP-gamma, for the output relevance (N, K)."""
    return check_function(
        gamma_layer,
        _gamma_reference,
        random_cases(_gamma_case, seeds=(0, 1, 2, 3, 4)),
        name="gamma_layer",
        forbid=(lrp,),
        rtol=1e-6,
        atol=1e-9,
        hint="boost the weights to w + gamma * max(w, 0) AND the bias to b + gamma * max(b, 0); the denominator "
        "z'_k = a @ boosted_weight.T + boosted_bias uses the boosted parameters too, plus 1e-6 * sign(z'_k) "
        "with sign(0) = +1; then R_j = a_j * sum_k boosted_w_kj R_k / z'_k",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch08-lrp-epsilon": Coded(check_lrp_epsilon, "my_lrp_epsilon", points=3),
    "ch08-gamma-layer": Coded(check_gamma_layer, "gamma_layer", points=2),
    "ch08-lrp0-gxi": Written(
        3,
        "- 1 point: the output step gives R_k = a_k v_k (0 for an inactive neuron, and "
        "R_k / z_k = v_k for an active one)\n"
        "- 1 point: the first layer gives R_j = x_j Σ_(k active) w_jk v_k = x_j ∂f/∂x_j\n"
        "- 1 point: the inputs receive f(x) - c - Σ_(k active) v_k b_k: the output bias "
        "keeps c, each active neuron's bias v_k b_k",
    ),
    "ch08-gamma-inputs": Written(
        3,
        "- 1 point: the denominator is z_k + γ (Σ_j a_j w_jk⁺ + b_k⁺), at least z_k when "
        "a_j ≥ 0\n"
        "- 1 point: an example with negative inputs, e.g. a = (-1, -1), w = (1, -3), b = 0: "
        "z = 2, denominator 2 - γ, zero at γ = 2\n"
        "- 1 point: without canonization the BatchNorm layers receive the raw convolution "
        "outputs, of both signs",
    ),
}
