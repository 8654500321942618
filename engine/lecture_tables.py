"""More of the lecture's data and the computations behind the labs that show it (pure NumPy +
standard library; never Qt).  Builds on :mod:`engine.labs` (its ``hinge_table`` and
``softmax_table`` compute every number shown here).

- the lecture's two loss tables as presets of the Loss lab: the 3-class cat/dog/bird table
  (hinge losses 2.9, 0, 12.9 → mean 5.27) and the 10-class CIFAR-10 table of three images
  (scores −3.45 … 6.14), each example named by its correct class;
- a linear classifier ``W (C×D)``, ``b`` made from the class means of an image set (the Score
  function lab's default ``W`` for a real 32×32×3 image: one row per class, a template);
- the Overfitting lab's presets, small enough that each trains in well under a second with
  one BLAS thread (``benchmarks/bench_labs.py`` measures the lab).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DatasetConfig, ExperimentConfig, LossConfig, ModelConfig, OptimConfig
from .labs import hinge_table, softmax_table

__all__ = ["LossPreset", "LOSS_PRESETS", "LOSS_3CLASS", "LOSS_CIFAR10", "CIFAR10_CLASSES", "example_names",
           "walkthrough", "hinge_table", "softmax_table", "class_mean_classifier", "OVERFIT_PRESETS",
           "overfit_config", "overfit_point"]

# =========================================================================== loss tables

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class LossPreset:
    """One of the lecture's score tables: ``scores (N, C)`` (one row per example; the slide
    prints the transpose, one column per example), ``labels (N,)``, the class names."""
    name: str
    classes: tuple[str, ...]
    scores: np.ndarray
    labels: np.ndarray
    note: str = ""

    @property
    def example_names(self) -> list[str]:
        return example_names(self.classes, self.labels)


def example_names(classes, labels) -> list[str]:
    """Each example named by its correct class: "cat image", "dog image"… (a second image of
    the same class gets a number: "cat image 2")."""
    out, seen = [], {}
    for y in labels:
        c = classes[int(y)] if 0 <= int(y) < len(classes) else f"class {int(y)}"
        seen[c] = seen.get(c, 0) + 1
        out.append(f"{c} image" + (f" {seen[c]}" if seen[c] > 1 else ""))
    return out


#: the lecture's SVM example: classes Cat, Dog, Bird; one image of each (the slide's columns)
LOSS_3CLASS = LossPreset(
    "Lecture: 3 classes (cat, dog, bird)",
    ("cat", "dog", "bird"),
    np.array([[3.2, 5.1, -1.7],
              [1.3, 4.9, 2.0],
              [2.2, 2.5, -3.1]]),
    np.array([0, 1, 2]),
    "The slide's hinge losses: 2.9, 0, 12.9; mean (2.9 + 0 + 12.9) / 3 ≈ 5.27.")

#: the lecture's f(x, W) = Wx + b table for three CIFAR-10 images (a cat, a car, a frog);
#: rows here are images, the slide prints them as columns (airplane −3.45 −0.51 3.42 …)
LOSS_CIFAR10 = LossPreset(
    "Lecture: CIFAR-10, 10 classes (cat, car, frog images)",
    CIFAR10_CLASSES,
    np.array([[-3.45, -8.87, 0.09, 2.9, 4.48, 8.02, 3.78, 1.06, -0.36, -0.72],
              [-0.51, 6.04, 5.31, -4.22, -4.19, 3.58, 4.49, -4.37, -2.09, -2.93],
              [3.42, 4.64, 2.65, 5.1, 2.64, 5.55, -4.34, -1.5, -4.79, 6.14]]),
    np.array([3, 1, 6]),
    "The slide's scores for a cat, a car (automobile) and a frog image: W is still bad — the cat "
    "image scores highest for dog, the frog image lowest for frog.")

LOSS_PRESETS = (LOSS_3CLASS, LOSS_CIFAR10)


def walkthrough(scores, labels, kind: str = "svm", margin: float = 1.0) -> dict:
    """Every example's loss and the mean, as numbers (for the lab's text and for tests):
    ``{"losses": (N,), "mean": float, "table": HingeTable | SoftmaxTable}``."""
    S = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.intp)
    t = hinge_table(S, y, margin) if kind == "svm" else softmax_table(S, y)
    return {"losses": np.asarray(t.losses, dtype=np.float64), "mean": float(t.mean), "table": t}


# =========================================================================== a W for real images

def class_mean_classifier(X: np.ndarray, y: np.ndarray, num_classes: int, scale: float = 1.0):
    """A linear classifier made from class means, in the lecture's orientation.

    With ``x' = (x − μ) / scale`` (``μ`` the mean image), row ``c`` of ``W`` is the class's mean
    ``m_c = (μ_c − μ) / scale`` and ``b_c = −½‖m_c‖²``, so ``W x' + b = ½(‖x'‖² − ‖x' − m_c‖²)``:
    the highest score is the nearest class mean (a "template" per class, as on the slide).

    Returns ``(W (C, D), b (C,), mu (D,))``; score an image with :func:`class_mean_scores`."""
    X = np.asarray(X)           # (no float64 copy of a large set: the means accumulate in float64)
    y = np.asarray(y, dtype=np.intp)
    mu = X.mean(axis=0, dtype=np.float64)
    W = np.zeros((num_classes, X.shape[1]))
    for c in range(num_classes):
        rows = X[y == c]
        if len(rows):
            W[c] = (rows.mean(axis=0, dtype=np.float64) - mu) / scale
    b = -0.5 * np.einsum("cd,cd->c", W, W)
    return W, b, mu


def class_mean_scores(W, b, mu, x, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(x', W x' + b)`` for rows ``x`` (N, D) or one image (D,), ``x' = (x − μ) / scale``."""
    xp = (np.asarray(x, dtype=np.float64) - mu) / scale
    return xp, xp @ np.asarray(W).T + b


# =========================================================================== overfitting

OVERFIT_PRESETS = {
    # name: (hidden, reg, reg_strength, epochs, optimizer, lr)
    "under-fitting": ([2], "none", 0.0, 150, "sgd", 0.5),
    "good fit": ([32], "l2", 1e-3, 300, "sgd", 0.5),
    "over-fitting": ([64, 64], "none", 0.0, 400, "adam", 0.01),
    "over-fitting + L2": ([64, 64], "l2", 3e-3, 400, "adam", 0.01),
}


def overfit_config(preset: str, seed: int = 0, samples: int = 30, noise: float = 0.4,
                   dataset: str = "spiral", epochs: int | None = None) -> ExperimentConfig:
    """One overfitting preset: a small noisy spiral (``samples`` per class, 40 % held out for
    validation), full-batch training of an MLP in float32 (each preset trains in well under a
    second on one core)."""
    hidden, reg, strength, ep, opt, lr = OVERFIT_PRESETS[preset]
    ds = DatasetConfig(name=dataset, classes=3, samples=samples, noise=noise, seed=seed,
                       val_fraction=0.4, test_fraction=0.0)
    return ExperimentConfig(
        dataset=ds,
        model=ModelConfig(hidden=list(hidden), activations=["relu"] * len(hidden), init="he", dtype="float32"),
        loss=LossConfig(loss="softmax", reg=reg, reg_strength=strength),
        optim=OptimConfig(optimizer=opt, lr=lr, batch_size=10_000, epochs=ep if epochs is None else epochs),
        seed=seed)


def overfit_point(history) -> dict:
    """What a finished run shows: final training / validation accuracy and loss, the lowest
    validation loss and how far the final one rose above it (``val_rise`` = final / lowest)."""
    tl, vl = list(history.train_loss), list(history.val_loss)
    ta, va = list(history.train_acc), list(history.val_acc)
    return {"train_acc": float(ta[-1]), "val_acc": float(va[-1]), "train_loss": float(tl[-1]),
            "val_loss": float(vl[-1]), "min_val_loss": float(min(vl)),
            "acc_gap": float(ta[-1] - va[-1]), "loss_gap": float(vl[-1] - tl[-1]),
            "val_rise": float(vl[-1] / max(min(vl), 1e-12))}
