"""Models: the linear classifier ``f = Wx + b`` and MLPs of any depth and width.

A model owns its parameters (``W1, b1, W2, b2, ...``; ``W_l: (fan_in, fan_out)`` so a
minibatch of rows flows as ``x W + b``) and a computational graph built once at layer
granularity: ``affine → activation → … → affine → loss``, plus ``regularization`` and the
total.  Every forward/backward — training, the gradient check, the backprop view's network
mode — runs through that graph.  The lecture writes ``W ∈ R^{C×D}`` acting on a column
``x``; our ``W`` is its transpose, so a class's weight template is a *column* here
(``template(k)`` reshapes it for display).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import ConfigError, LossConfig, ModelConfig
from .graph import Graph, Node


def init_weight(fan_in: int, fan_out: int, init: str, rng: np.random.Generator,
                scale: float = 1e-4, dtype=np.float32) -> np.ndarray:
    """Small Gaussian (``scale * randn``, the lecture's 0.0001), Xavier (1/fan_in) or He (2/fan_in)."""
    if init == "small":
        std = scale
    elif init == "xavier":
        std = np.sqrt(1.0 / fan_in)
    elif init == "he":
        std = np.sqrt(2.0 / fan_in)
    else:
        raise ConfigError(f"unknown initialisation {init!r}")
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)


@dataclass(frozen=True)
class Layer:
    """Description of one affine layer for diagrams: ``W_i ∈ R^{fan_in × fan_out}`` then activation."""
    index: int
    fan_in: int
    fan_out: int
    activation: str  # "" for the output (score) layer


class Network:
    """An MLP with ``hidden`` layers (``[]`` = the linear classifier) and a loss.

    ``params`` is an ordered dict ``{"W1": (D, H1), "b1": (H1,), ...}``.
    """

    def __init__(self, input_dim: int, num_classes: int, model: ModelConfig | None = None,
                 loss: LossConfig | None = None, rng: np.random.Generator | None = None,
                 params: dict[str, np.ndarray] | None = None):
        self.model_cfg = model or ModelConfig()
        self.loss_cfg = loss or LossConfig()
        self.model_cfg.validate()
        self.loss_cfg.validate()
        if input_dim < 1:
            raise ConfigError(f"the input must have at least one feature, got {input_dim}")
        if num_classes < 2:
            raise ConfigError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.input_dim = int(input_dim)
        self.num_classes = int(num_classes)
        self.dtype = np.dtype(self.model_cfg.dtype)
        sizes = [self.input_dim, *self.model_cfg.hidden, self.num_classes]
        acts = [*self.model_cfg.activations, ""]
        self.layers = [Layer(i + 1, sizes[i], sizes[i + 1], acts[i]) for i in range(len(sizes) - 1)]
        n_weights = sum(l.fan_in * l.fan_out for l in self.layers)
        if n_weights > 200_000_000:
            raise ConfigError(f"this network would have {n_weights:,} weights; at most 200,000,000 fit in memory")
        if params is not None:
            self.params = self._check_params(params)
        else:
            rng = rng if rng is not None else np.random.default_rng(0)
            self.params = {}
            for l in self.layers:
                self.params[f"W{l.index}"] = init_weight(l.fan_in, l.fan_out, self.model_cfg.init, rng,
                                                         self.model_cfg.init_scale, self.dtype)
                self.params[f"b{l.index}"] = np.zeros(l.fan_out, dtype=self.dtype)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # overflow shows as a loss
            self._build_graph()

    # ------------------------------------------------------------------ structure
    @property
    def is_linear(self) -> bool:
        return not self.model_cfg.hidden

    @property
    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def weight_names(self) -> list[str]:
        return [f"W{l.index}" for l in self.layers]

    def regularized_names(self) -> list[str]:
        names = self.weight_names()
        if self.loss_cfg.reg_bias:
            names += [f"b{l.index}" for l in self.layers]
        return names

    def _check_params(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for l in self.layers:
            for name, shape in ((f"W{l.index}", (l.fan_in, l.fan_out)), (f"b{l.index}", (l.fan_out,))):
                if name not in params:
                    raise ConfigError(f"weights: {name} is missing")
                p = np.asarray(params[name])
                if p.shape != shape:
                    raise ConfigError(f"weights: {name} has shape {p.shape}, the model needs {shape}")
                if not np.all(np.isfinite(p)):
                    raise ConfigError(f"weights: {name} contains NaN or infinite values")
                out[name] = np.array(p, dtype=self.dtype, copy=True, order="C")
        extra = sorted(set(params) - set(out))
        if extra:
            raise ConfigError(f"weights: unexpected array {extra[0]} for this architecture")
        return out

    def _build_graph(self) -> None:
        """Build the layer-granularity graph once; each step only swaps the minibatch in."""
        g = Graph(self.dtype)
        self.graph = g
        self.x_node = g.input("X", np.zeros((1, self.input_dim), self.dtype), requires_grad=False)
        self.y_node = g.input("y", np.zeros(1, np.int64), requires_grad=False, dtype=np.int64)
        self.param_nodes: dict[str, Node] = {name: g.param(name, p) for name, p in self.params.items()}
        h = self.x_node
        cfg = self.model_cfg
        self.hidden_nodes: list[Node] = []
        for l in self.layers:
            z = g.apply("affine", h, self.param_nodes[f"W{l.index}"], self.param_nodes[f"b{l.index}"],
                        name="s" if not l.activation else f"z{l.index}")
            if l.activation:
                h = g.apply(l.activation, z, name=f"h{l.index}", **cfg.activation_attrs(l.activation))
                self.hidden_nodes.append(h)
            else:
                h = z
        self.scores_node = h
        lc = self.loss_cfg
        if lc.loss == "softmax":
            self.data_loss_node = g.apply("softmax_loss", h, self.y_node, name="data loss")
        else:
            self.data_loss_node = g.apply("hinge_loss", h, self.y_node, name="data loss", margin=lc.margin)
        reg_params = [self.param_nodes[n] for n in self.regularized_names()]
        self.reg_node = g.apply("regularization", *reg_params, name="reg loss", kind=lc.reg,
                                strength=lc.reg_strength if lc.reg != "none" else 0.0, l1_ratio=lc.l1_ratio)
        self.loss_node = g.apply("add", self.data_loss_node, self.reg_node, name="loss")

    # ------------------------------------------------------------------ hyperparameters mid-run
    def set_reg_strength(self, strength: float) -> None:
        if strength < 0:
            raise ConfigError(f"regularization strength must not be negative, got {strength}")
        self.loss_cfg.reg_strength = float(strength)
        self.reg_node.attrs["strength"] = float(strength) if self.loss_cfg.reg != "none" else 0.0

    # ------------------------------------------------------------------ computation
    def _feed(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise ConfigError(f"input has shape {X.shape}; this model takes (N, {self.input_dim})")
        self.x_node.value = X if X.dtype == self.dtype else X.astype(self.dtype)
        if y is not None:
            self.y_node.value = y

    def loss(self, X: np.ndarray, y: np.ndarray, grads: bool = True, trace: bool = False):
        """Forward (and backward) on a minibatch.

        Returns ``(total loss, data loss, reg loss)`` as floats; with ``grads`` the parameter
        gradients are in :attr:`grads` afterwards.
        """
        self._feed(X, y)
        g = self.graph
        g.forward(self.loss_node, trace=trace)
        if grads:
            g.backward(self.loss_node, trace=trace)
        return (float(self.loss_node.value), float(self.data_loss_node.value), float(self.reg_node.value))

    @property
    def grads(self) -> dict[str, np.ndarray]:
        out = {}
        for name, node in self.param_nodes.items():
            out[name] = node.grad if node.grad is not None else np.zeros_like(node.value)
        return out

    def grad_list(self) -> list[np.ndarray | None]:
        return [node.grad for node in self.param_nodes.values()]

    def param_list(self) -> list[np.ndarray]:
        return list(self.params.values())

    def scores(self, X: np.ndarray, batch: int = 4096) -> np.ndarray:
        """Class scores ``(N, C)``; large inputs are processed in chunks."""
        if len(X) <= batch:
            self._feed(X, None)
            return np.array(self.graph.forward(self.scores_node), copy=True)
        return np.concatenate([self.scores(X[i:i + batch], batch) for i in range(0, len(X), batch)])

    def hidden_activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Each hidden layer's activations ``(N, H_l)`` for ``X`` (copies)."""
        self._feed(X, None)
        self.graph.forward(self.scores_node)
        return [np.array(h.value, copy=True) for h in self.hidden_nodes]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.scores(X).argmax(axis=1)

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        s = self.scores(X).astype(np.float64)
        s -= s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        if len(y) == 0:
            return float("nan")
        return float(np.mean(self.predict(X) == y))

    def evaluate(self, X: np.ndarray, y: np.ndarray, batch: int = 4096) -> tuple[float, float, float, float]:
        """``(total loss, data loss, reg loss, accuracy)`` over a whole split, without gradients."""
        if len(y) == 0:
            nan = float("nan")
            return nan, nan, nan, nan
        data = 0.0
        correct = 0
        reg = 0.0
        for i in range(0, len(y), batch):
            Xb, yb = X[i:i + batch], y[i:i + batch]
            _, d, reg = self.loss(Xb, yb, grads=False)
            data += d * len(yb)
            correct += int(np.sum(self.scores_node.value.argmax(axis=1) == yb))
        data /= len(y)
        return data + reg, data, reg, correct / len(y)

    # ------------------------------------------------------------------ lecture helpers
    def template(self, k: int) -> np.ndarray:
        """Class k's weight template for a linear classifier: the lecture's row k of W (D,)."""
        return self.params["W1"][:, k]

    def copy_params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy values in place (the graph keeps pointing at the same arrays)."""
        checked = self._check_params(params)
        for k, v in checked.items():
            self.params[k][...] = v

    def astype(self, dtype) -> "Network":
        """A copy of this network in another precision (float64 for gradient checks)."""
        mc = ModelConfig(**{**self.model_cfg.__dict__, "dtype": np.dtype(dtype).name,
                            "hidden": list(self.model_cfg.hidden),
                            "activations": list(self.model_cfg.activations)})
        lc = LossConfig(**self.loss_cfg.__dict__)
        return Network(self.input_dim, self.num_classes, mc, lc, params=self.params)

    def describe(self) -> str:
        """``D → H1 (relu) → … → C``, with the parameter count."""
        parts = [str(self.input_dim)]
        for l in self.layers:
            parts.append(f"{l.fan_out}" + (f" ({l.activation})" if l.activation else ""))
        kind = "linear classifier" if self.is_linear else f"{len(self.layers)}-layer network"
        return f"{kind}: " + " → ".join(parts) + f"; {self.num_params:,} parameters"


class LinearClassifier(Network):
    """The lecture's ``f(x) = Wx + b`` (no hidden layers)."""

    def __init__(self, input_dim: int, num_classes: int, loss: LossConfig | None = None,
                 rng: np.random.Generator | None = None, init: str = "small", init_scale: float = 1e-4,
                 dtype: str = "float32", params=None):
        mc = ModelConfig(hidden=[], activations=[], init=init, init_scale=init_scale, dtype=dtype)
        super().__init__(input_dim, num_classes, mc, loss, rng, params)


def build_model(input_dim: int, num_classes: int, model: ModelConfig, loss: LossConfig,
                seed: int = 0) -> Network:
    """The network a config describes, initialised from ``np.random.default_rng(seed)``."""
    return Network(input_dim, num_classes, model, loss, np.random.default_rng(seed))
