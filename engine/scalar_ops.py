"""The scalar gates and the activations, registered into :data:`engine.ops.OPS`.

Each works elementwise on arrays of any shape (0-d for the walkthroughs) and defines a *local
gradient* per input, so the backward rule is the lecture's ``downstream = local × upstream``
(:meth:`engine.ops.Op.vjp`).  A few (add, relu, identity) also give the same rule as a direct
``backward`` so a network's step skips building the local gradient.

Adding an activation is one ``register(Op(..., kind="activation", title=..., formula=...))``
below (in the order the Architecture panel and the command line offer them); the
configuration, the networks, the labs and the walkthrough files all read it from
:data:`~engine.ops.OPS`.  An activation with a parameter also lists it in ``attrs`` and names
the :class:`~engine.config.ModelConfig` field that sets it in ``config_attrs`` (add the field).
"""
from __future__ import annotations

import numpy as np

from .ops import Op, register, unbroadcast


def _fw(fn):
    """Forward for ops that need no cache."""
    return lambda v, a: (np.asarray(fn(*v, **a)), None)


def _add_bw(up, n):
    a, b = n.parents
    return unbroadcast(up, a.value.shape), unbroadcast(up, b.value.shape)


register(Op("add", 2, _fw(lambda a, b: a + b),
            local=lambda n: (np.ones_like(n.parents[0].value), np.ones_like(n.parents[1].value)),
            backward=_add_bw,
            symbol="+", describe="add gate: distributes the upstream gradient unchanged to both inputs", kind="gate"))
register(Op("sub", 2, _fw(lambda a, b: a - b),
            local=lambda n: (np.ones_like(n.parents[0].value), -np.ones_like(n.parents[1].value)),
            symbol="−", describe="subtract gate: local gradients +1 and −1", kind="gate"))
register(Op("mul", 2, _fw(lambda a, b: a * b),
            local=lambda n: (n.parents[1].value, n.parents[0].value),
            symbol="×", describe="mul gate: swaps the inputs — each input's local gradient is the other input",
            kind="gate"))
register(Op("div", 2, _fw(lambda a, b: a / b),
            local=lambda n: (1.0 / n.parents[1].value,
                             -n.parents[0].value / n.parents[1].value ** 2),
            symbol="÷", describe="divide gate: d(a/b)/da = 1/b, d(a/b)/db = −a/b²", kind="gate"))
register(Op("neg", 1, _fw(lambda a: -a), local=lambda n: (-np.ones_like(n.value),),
            symbol="−x", describe="negate gate: local gradient −1", kind="gate"))


def _pow_local(n):
    a, b = n.parents[0].value, n.parents[1].value
    with np.errstate(divide="ignore", invalid="ignore"):
        # aᵇ with b = 0 is the constant 1: its slope is 0, also at a = 0 (where b·aᵇ⁻¹ is 0·∞)
        da = np.where(b == 0, 0.0, b * np.power(a, b - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        db = np.where(a > 0, n.value * np.log(np.where(a > 0, a, 1.0)), 0.0)
    return da, db


register(Op("pow", 2, _fw(lambda a, b: np.power(a, b)), local=_pow_local, symbol="^",
            describe="power gate: d(aᵇ)/da = b·aᵇ⁻¹, d(aᵇ)/db = aᵇ·ln a", kind="gate"))
register(Op("exp", 1, _fw(np.exp), local=lambda n: (n.value,), symbol="exp",
            describe="exp gate: local gradient eˣ (the gate's own output)", kind="gate"))
register(Op("log", 1, _fw(np.log), local=lambda n: (1.0 / n.parents[0].value,), symbol="log",
            describe="log gate: local gradient 1/x", kind="gate"))
register(Op("max", 2, _fw(np.maximum),
            local=lambda n: ((n.parents[0].value >= n.parents[1].value).astype(n.value.dtype),
                             (n.parents[0].value < n.parents[1].value).astype(n.value.dtype)),
            symbol="max", describe="max gate: routes the whole gradient to the larger input, 0 to the other "
                     "(on a tie, all of it to the first input)", kind="gate"))
register(Op("min", 2, _fw(np.minimum),
            local=lambda n: ((n.parents[0].value <= n.parents[1].value).astype(n.value.dtype),
                             (n.parents[0].value > n.parents[1].value).astype(n.value.dtype)),
            symbol="min", describe="min gate: routes the whole gradient to the smaller input, 0 to the other "
                     "(on a tie, all of it to the first input)", kind="gate"))
register(Op("abs", 1, _fw(np.abs), local=lambda n: (np.sign(n.parents[0].value),), symbol="|x|",
            describe="abs gate: local gradient sign(x)", kind="gate"))
register(Op("recip", 1, _fw(lambda a: 1.0 / a), local=lambda n: (-1.0 / n.parents[0].value ** 2,),
            symbol="1/x", describe="1/x gate: local gradient −1/x²", kind="gate"))
register(Op("addc", 1, _fw(lambda a, c: a + c), local=lambda n: (np.ones_like(n.value),),
            symbol="+c", describe="add-constant gate: local gradient 1", kind="gate", attrs={"c": True}))
register(Op("mulc", 1, _fw(lambda a, c: a * c),
            local=lambda n: (np.full_like(n.value, n.attrs["c"]),),
            symbol="×c", describe="multiply-by-constant gate: local gradient is the constant", kind="gate",
            attrs={"c": True}))
register(Op("copy", 1, _fw(lambda a: np.array(a, copy=True)), local=lambda n: (np.ones_like(n.value),),
            symbol="copy", describe="copy gate: one value used twice; the gradients coming back are added",
            kind="gate"))

# activations (also the network's layer-sized activations: they are elementwise)


def _sigmoid(x):
    # numerically stable for large |x|
    out = np.empty_like(x, dtype=np.result_type(x, np.float32))
    pos = x >= 0
    np.divide(1.0, 1.0 + np.exp(-x, where=pos, out=np.zeros_like(out)), out=out, where=pos)
    ex = np.exp(x, where=~pos, out=np.zeros_like(out))
    np.divide(ex, 1.0 + ex, out=out, where=~pos)
    return out


def _relu_fw(v, a):
    return np.maximum(v[0], 0), None


def _relu_bw(up, n):
    # the output max(0, x) is ≥ 0, so its sign is the mask [x > 0], already a float (no cast)
    return (up * np.sign(n.value),)


def _leaky_fw(v, a):
    x = v[0]
    return np.where(x > 0, x, a.get("slope", 0.2) * x), None


def _elu_fw(v, a):
    x = v[0]
    alpha = a.get("alpha", 1.0)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), None


# the activations in the lecture's order (the Activations lab, the CLI's and the panel's lists follow it)
register(Op("sigmoid", 1, lambda v, a: (_sigmoid(v[0]), None),
            local=lambda n: ((1.0 - n.value) * n.value,),
            symbol="σ", describe="sigmoid gate: local gradient (1 − σ(x)) σ(x)",
            kind="activation", title="Sigmoid", formula="σ(x) = 1 / (1 + e⁻ˣ)"))
register(Op("tanh", 1, lambda v, a: (np.tanh(v[0]), None), local=lambda n: (1.0 - n.value ** 2,),
            symbol="tanh", describe="tanh gate: local gradient 1 − tanh²(x)",
            kind="activation", title="tanh", formula="tanh(x) = (e²ˣ − 1) / (e²ˣ + 1)"))
register(Op("relu", 1, _relu_fw, local=lambda n: ((n.parents[0].value > 0).astype(n.value.dtype),),
            backward=_relu_bw, symbol="ReLU", describe="ReLU gate max(0, x): passes the gradient where x > 0",
            kind="activation", title="ReLU", formula="max(0, x)"))
register(Op("leaky_relu", 1, _leaky_fw,
            local=lambda n: (np.where(n.parents[0].value > 0, 1.0, n.attrs.get("slope", 0.2)).astype(n.value.dtype),),
            symbol="LReLU", describe="leaky ReLU gate max(αx, x): gradient 1 for x > 0, α otherwise",
            kind="activation", title="Leaky ReLU", formula="max(αx, x)",
            attrs={"slope": False}, config_attrs={"slope": "leaky_slope"}))


def _elu_local(n):
    """α·eˣ for x ≤ 0, computed as such: the shortcut value + α (= α(eˣ − 1) + α) cancels to
    nothing in float32 below x ≈ −17, where PyTorch still returns α·eˣ."""
    x = n.parents[0].value
    with np.errstate(under="ignore"):
        g = np.where(x > 0, 1.0, n.attrs.get("alpha", 1.0) * np.exp(np.minimum(x, 0)))
    return (g.astype(n.value.dtype),)


register(Op("elu", 1, _elu_fw, local=_elu_local,
            symbol="ELU", describe="ELU gate: gradient 1 for x > 0, α·eˣ otherwise",
            kind="activation", title="ELU", formula="x if x > 0, α(eˣ − 1) otherwise",
            attrs={"alpha": False}, config_attrs={"alpha": "elu_alpha"}))
# (no formula: the activation lab plots the nonlinearities; identity is its collapse demonstration)
register(Op("identity", 1, lambda v, a: (v[0], None), local=lambda n: (np.ones_like(n.value),),
            backward=lambda up, n: (up,), symbol="id", describe="identity: no nonlinearity",
            kind="activation", title="identity"))
