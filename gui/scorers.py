"""The network's outputs the views show while training runs, computed off the GUI thread: the
decision regions (class probabilities on a grid over 2-D data, :class:`GridScorer`) and the live
validation predictions (:class:`LivePredictions`).  Without Qt.

Both score *published* weights (a snapshot's copies), never the trainer's own arrays: a
:class:`PointScorer` keeps a private :class:`~engine.models.Network` of the model's architecture,
copies the weights into it and runs the model's own forward (``Network.scores``) — one
definition of the layers, the activations and their settings.
"""
from __future__ import annotations

import numpy as np

from engine.models import Network

GRID_SIZE = 90
PRED_MAX = 3000              # live predictions: at most this many validation examples
PRED_CHUNK = 200             # … re-predicted this many per snapshot, in turn (a full pass every few frames)


def grid_extent(X: np.ndarray, pad: float = 0.15) -> tuple[float, float, float, float]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def grid_points(extent, n: int = GRID_SIZE) -> np.ndarray:
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0, x1, n, dtype=np.float32)
    ys = np.linspace(y0, y1, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)           # row = y, column = x
    return np.column_stack([gx.ravel(), gy.ravel()])


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Softmax of each row of ``scores`` ``(N, C)``, float32, a new array.  Computed on the
    transpose, a row per class: the largest score and the sums then run along rows of N points,
    where NumPy is several times faster than along rows of 3 or 10 classes."""
    s = np.array(scores.T, dtype=np.float32, order="C")
    top = s[0].copy()
    for row in s[1:]:
        np.maximum(top, row, out=top)
    s -= top
    np.exp(s, out=s)
    total = s[0].copy()
    for row in s[1:]:
        total += row
    s /= total
    return np.ascontiguousarray(s.T)


class PointScorer:
    """Class scores of fixed points ``pts`` ``(N, D)`` under given weights of a given model's
    architecture, through the model's own forward on a private copy of the network."""

    def __init__(self, pts: np.ndarray):
        self.pts = pts
        self._net: Network | None = None
        self._of: Network | None = None        # the model whose architecture _net copies

    def _network(self, params: dict, model: Network) -> Network:
        if self._of is not model:
            self._net = Network(model.input_dim, model.num_classes, model.model_cfg, model.loss_cfg)
            self._of = model
        net = self._net
        for k, v in params.items():          # (not set_params: no checks, no second copy)
            np.copyto(net.params[k], v)
        return net

    def scores(self, params: dict, model: Network, rows: slice = slice(None)) -> np.ndarray:
        """``(n, C)`` scores of ``pts[rows]`` (a new array, the model's dtype)."""
        return self._network(params, model).scores(self.pts[rows])

    def probabilities_flat(self, params: dict, model: Network, rows: slice = slice(None)) -> np.ndarray:
        """Softmax of the scores, ``(n, C)`` float32, a new array."""
        return softmax_rows(self.scores(params, model, rows))


class GridScorer(PointScorer):
    """A network's class probabilities on the ``n × n`` grid of points (the decision regions)."""

    def __init__(self, pts: np.ndarray, n: int = GRID_SIZE):
        super().__init__(np.ascontiguousarray(pts, dtype=np.float32))
        self.n = n

    def probabilities(self, params: dict, model: Network) -> np.ndarray:
        """Softmax of the scores, ``(n, n, C)`` float32, a new array (shading by confidence)."""
        return self.probabilities_flat(params, model).reshape(self.n, self.n, -1)


class LivePredictions:
    """Class probabilities (for an SVM its class scores) of the first :data:`PRED_MAX` validation
    examples (training ones if there is no validation split), for the Predictions view while it is
    shown and training runs.

    A full pass on CIFAR-sized inputs (800 × 3,072 through an MLP) costs about as much as a
    couple of training steps, too much 30 times a second; so each call re-predicts the next
    :data:`PRED_CHUNK` examples in turn and returns all of them, every prediction at most a
    few frames old.  The first call predicts them all."""

    def __init__(self, data, scores: bool = False):
        self.scores = scores         # an SVM's raw class scores instead of softmax probabilities
        X, y = data.X_val[:PRED_MAX], data.y_val[:PRED_MAX]
        if len(y) == 0:
            X, y = data.X_train[:PRED_MAX], data.y_train[:PRED_MAX]
        self.y = np.asarray(y)
        self._scorer = PointScorer(X)
        self._chunks = [slice(i, min(i + PRED_CHUNK, len(y))) for i in range(0, len(y), PRED_CHUNK)]
        self._probs: np.ndarray | None = None
        self._next = 0

    def _of(self, params: dict, model: Network, rows: slice) -> np.ndarray:
        if self.scores:
            return self._scorer.scores(params, model, rows).astype(np.float32, copy=False)
        return self._scorer.probabilities_flat(params, model, rows)

    def update(self, params: dict, model: Network) -> np.ndarray:
        """``(N, C)`` float32 probabilities (a new array), ``PRED_CHUNK`` of them from ``params``."""
        if not self._chunks:
            return np.zeros((0, 0), np.float32)
        if self._probs is None or self._probs.shape[1] != model.num_classes:
            self._probs = self._of(params, model, slice(None))
            self._next = 0
        else:
            rows = self._chunks[self._next]
            self._probs[rows] = self._of(params, model, rows)
            self._next = (self._next + 1) % len(self._chunks)
        return self._probs.copy()
