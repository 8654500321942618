"""The trainer: a one-step API (one minibatch update) the GUI drives, and an epoch loop over it.

``Trainer.step()`` draws the next minibatch (a fresh seeded permutation every epoch), runs
forward and backward through the model's graph, updates the weights and returns a
:class:`StepResult` saying what changed.  A NaN or infinite loss stops the run with a stated
reason (``diverged``) instead of raising.  Learning rate, regularization strength and batch
size may be changed between steps.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .config import ConfigError, ExperimentConfig
from .datasets import Dataset
from .models import Network, build_model
from .optim import make_optimizer, random_weights_like, scheduled_lr
from .runloop import run

SEARCH_OPTIMIZERS = ("random-search", "random-local-search")
EPOCH_TRAIN_EXAMPLES = 1000   # the per-epoch training loss / accuracy are measured on this many
INITIAL_EXAMPLES = 1000   # the step-0 loss is measured on at most this many training examples
GROWTH_LIMIT = 100.0      # a loss this many times its step-1 value ...
GROWTH_STEPS = 3          # ... on this many minibatches in a row is a diverging run


@dataclass(frozen=True)
class StepResult:
    step: int                 # number of updates done so far (after this one)
    epoch: float              # fractional epochs done
    loss: float               # total loss on this minibatch (before the update)
    data_loss: float
    reg_loss: float
    lr: float
    batch_size: int
    changed: tuple[str, ...]  # parameters that were updated (empty: a rejected search trial)
    epoch_end: bool = False   # this step finished an epoch (history has new accuracies)
    diverged: bool = False
    reason: str = ""


@dataclass
class History:
    """Per-step losses and per-epoch evaluations."""
    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    data_loss: list[float] = field(default_factory=list)
    reg_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_epoch: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in self.__dict__.items()}


def divergence_reason(loss: float, step: int, lr: float, *, data_loss: float = math.nan,
                      reg_loss: float = 0.0, cfg: ExperimentConfig | None = None,
                      input_max: float = 0.0) -> str:
    """Why the loss became NaN or infinite, blaming what really caused it.

    The loss of step 1 is computed on the initial weights, before any update, so there the
    learning rate cannot be the cause: an overflowing regularization term, an absurd SVM
    margin or ELU alpha, or huge inputs are named instead. Later steps blame the learning
    rate unless one of those settings is out of all proportion.
    """
    what = "NaN" if math.isnan(loss) else "infinite"
    suspects = []
    if cfg is not None:
        if cfg.loss.reg_strength > 1e6 or (step <= 1 and not math.isfinite(reg_loss)):
            suspects.append(f"the regularization strength λ = {cfg.loss.reg_strength:g} is far too large "
                            f"(λR(W) = {reg_loss:g}); try 1e-3 … 1")
        if cfg.loss.loss == "svm" and cfg.loss.margin > 1e6:
            suspects.append(f"the SVM margin Δ = {cfg.loss.margin:g} is absurd (the lecture uses Δ = 1)")
        if "elu_alpha" in cfg.model.fields_in_use() and cfg.model.elu_alpha > 1e6:
            suspects.append(f"the ELU α = {cfg.model.elu_alpha:g} is absurd (1 is usual)")
    if input_max > 1e6:
        suspects.append(f"the inputs reach |x| = {input_max:.3g}: preprocess them (mean, scale or standardize)")
    if suspects:
        return f"the loss became {what} at step {step}: " + "; ".join(suspects)
    if step <= 1:
        return (f"the loss is {what} on the initial weights, before any update (so not the learning rate): "
                f"data loss {data_loss:g}, regularization {reg_loss:g}; check the data and the loss settings")
    return (f"the loss became {what} at step {step} — training diverged; the learning rate "
            f"{lr:g} is probably too large, try a smaller one (e.g. {lr / 10:g})")


def expected_initial_loss(loss: str, num_classes: int, margin: float = 1.0) -> float:
    """The data loss of weights so small that every score is about 0: softmax gives every class
    probability 1/C, so −log(1/C) = ln C; the SVM's every wrong class costs max(0, 0 − 0 + Δ) = Δ,
    so (C − 1)·Δ."""
    if loss == "svm":
        return (num_classes - 1) * float(margin)
    return math.log(num_classes)


def sanity_check(loss: str, num_classes: int, margin: float, initial_data_loss: float,
                 init: str = "") -> str:
    """One line comparing the step-0 data loss with the lecture's sanity check.

    ``loss`` is "softmax" or "svm", ``margin`` the SVM's Δ (ignored for softmax),
    ``initial_data_loss`` the data loss before any update (``Trainer.initial[1]``) and
    ``init`` (optional) the initialisation's name, used to say why the loss is far off.
    "Near" means within 10 % of the expected value (or 0.05 when that is larger): small weights
    (0.0001·randn) land within about 0.01 of it, Xavier/He weights on real data usually not.
    """
    expected = expected_initial_loss(loss, num_classes, margin)
    if loss == "svm":
        head = f"sanity check: small-weight SVM starts near (C−1)·Δ = {expected:.2f}"
    else:
        head = f"sanity check: small-weight softmax starts near ln {num_classes} = {expected:.2f}"
    if not math.isfinite(initial_data_loss):
        return f"{head}; here the loss is not finite — check the data and the settings"
    here = f"here {initial_data_loss:.2f}" if abs(initial_data_loss) < 1e5 else f"here {initial_data_loss:.3g}"
    if abs(initial_data_loss - expected) <= max(0.1 * expected, 0.05):
        return f"{head}; {here}"
    if initial_data_loss > expected:
        if init == "small":
            why = "small weights on large inputs still give large scores (preprocess the inputs)"
        else:
            why = f"the weights are not small{f' ({init} init)' if init else ''}, so the scores are not all near 0"
        return f"{head}; {here} — far from it: {why}"
    return f"{head}; {here} — below it: these weights already fit the data (trained or loaded)"


def growth_reason(first: float, first_step: int, loss: float, step: int, lr: float,
                  input_max: float = 0.0) -> str:
    """Why a finite loss that grew far above its start stopped the run: the learning rate (and
    unpreprocessed inputs, when they are large)."""
    smaller = f"{lr / 10:.3g}"
    text = (f"the loss grew from {_num(first)} at step {first_step} to {_num(loss)} at step {step} "
            f"(over {GROWTH_LIMIT:g}×) — the learning rate {lr:g} is probably too large; try {smaller}")
    if input_max > 100:
        text += (f"; the inputs are not preprocessed (|x| up to {input_max:.3g}): "
                 "try preprocess standardize")
    return text


def _num(v: float) -> str:
    return f"{v:.2f}" if abs(v) < 1e4 else f"{v:.2g}"


class Trainer:
    def __init__(self, model: Network, data: Dataset, cfg: ExperimentConfig):
        self.model = model
        self.data = data
        self.cfg = cfg
        if model.input_dim != data.num_features:
            raise ConfigError(f"the model takes {model.input_dim} features but {data.name} has {data.num_features}")
        if model.num_classes < data.num_classes:
            raise ConfigError(f"the model has {model.num_classes} outputs but {data.name} has {data.num_classes} classes")
        if len(data.y_train) == 0:
            raise ConfigError(f"{data.name} has no training examples")
        self.initial: tuple[float, float, float] = (math.nan, math.nan, math.nan)
        self._begin()
        self.compute_initial(from_init=True)

    def compute_initial(self, *, from_init: bool = False) -> tuple[float, float, float]:
        """``(loss, data loss, reg loss)`` of the current weights, before any update, on at most
        the first :data:`INITIAL_EXAMPLES` training examples (no gradients). Stored in
        :attr:`initial`; call it again after putting other weights in with ``model.set_params``
        (construction and :meth:`reset` call it themselves, with ``from_init=True``: the weights
        are the configured initialisation, which :meth:`sanity_check` may then name)."""
        self._initial_from_init = from_init
        n = min(len(self.data.y_train), INITIAL_EXAMPLES)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.initial = self.model.loss(self.data.X_train[:n], self.data.y_train[:n], grads=False)
        return self.initial

    def sanity_check(self) -> str:
        """:func:`sanity_check` of this run's loss settings and :attr:`initial`."""
        lc = self.cfg.loss
        return sanity_check(lc.loss, self.model.num_classes, lc.margin, self.initial[1],
                            self.cfg.model.init if self._initial_from_init else "")

    def _begin(self) -> None:
        """A fresh run of the current weights: counters, history, optimizer state, minibatch order."""
        cfg = self.cfg
        self._growth_limit: float | None = None    # the loss that, kept up, means divergence
        self.base_lr = cfg.optim.lr
        self.batch_size = cfg.optim.batch_size
        self.rng = np.random.default_rng(cfg.seed + 7919)
        self.optimizer = (make_optimizer(cfg.optim) if cfg.optim.optimizer not in SEARCH_OPTIMIZERS else None)
        self.history = History()
        self.steps = 0
        self.samples_seen = 0
        self.diverged = False
        self.reason = ""
        self._perm = self.rng.permutation(len(self.data.y_train))
        self._pos = 0
        self._epochs_done = 0
        self.seconds = 0.0

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, data: Dataset) -> "Trainer":
        model = build_model(data.num_features, data.num_classes, cfg.model, cfg.loss, cfg.seed)
        return cls(model, data, cfg)

    # -------------------------------------------------------------- mid-run changes
    @property
    def epoch(self) -> float:
        return self.samples_seen / len(self.data.y_train)

    @property
    def lr(self) -> float:
        return scheduled_lr(self.cfg.optim, self.base_lr, self.epoch)

    def set_learning_rate(self, lr: float) -> None:
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError(f"the learning rate must be a positive number, got {lr}")
        self.base_lr = self.cfg.optim.lr = float(lr)

    def set_reg_strength(self, strength: float) -> None:
        self.model.set_reg_strength(strength)
        self.cfg.loss.reg_strength = float(strength)

    def set_batch_size(self, n: int) -> None:
        if n < 1:
            raise ConfigError(f"the batch size must be at least 1, got {n}")
        self.batch_size = self.cfg.optim.batch_size = int(n)

    # -------------------------------------------------------------- stepping
    def next_batch(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """The next minibatch; the third value says it completed an epoch."""
        n = len(self.data.y_train)
        b = min(self.batch_size, n)
        if self._pos >= n:
            self._perm = self.rng.permutation(n)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + b]
        self._pos += len(idx)
        return self.data.X_train[idx], self.data.y_train[idx], self._pos >= n

    def step(self) -> StepResult:
        """One minibatch update (for the search optimizers: one random trial)."""
        if self.diverged:
            return self._result(math.nan, math.nan, math.nan, (), False)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step()

    def _step(self) -> StepResult:
        t0 = time.perf_counter()
        X, y, epoch_end = self.next_batch()
        lr = self.lr
        model = self.model
        if self.optimizer is None:
            loss, data_loss, reg_loss, changed = self._search_step(X, y)
        else:
            loss, data_loss, reg_loss = model.loss(X, y, grads=True)
            changed = ()
            if math.isfinite(loss):
                self.optimizer.update(model.param_list(), model.grad_list(), lr)
                changed = tuple(model.params)
        self.steps += 1
        self.samples_seen += len(y)
        h = self.history
        h.step.append(self.steps)
        h.loss.append(loss)
        h.data_loss.append(data_loss)
        h.reg_loss.append(reg_loss)
        h.lr.append(lr)
        if not math.isfinite(loss):
            self.diverged = True
            X = self.data.X_train
            self.reason = divergence_reason(loss, self.steps, lr, data_loss=data_loss, reg_loss=reg_loss,
                                            cfg=self.cfg, input_max=float(np.abs(X).max()) if X.size else 0.0)
            self.seconds += time.perf_counter() - t0
            return self._result(loss, data_loss, reg_loss, (), False, lr)
        if self.optimizer is not None and self._grew_too_much():
            self.diverged = True
            X = self.data.X_train
            self.reason = growth_reason(h.loss[0], h.step[0], loss, self.steps, lr,
                                        float(np.abs(X).max()) if X.size else 0.0)
            self.seconds += time.perf_counter() - t0
            return self._result(loss, data_loss, reg_loss, changed, False, lr)
        if epoch_end:
            self._epochs_done += 1
            self.evaluate_epoch()
        self.seconds += time.perf_counter() - t0
        return self._result(loss, data_loss, reg_loss, changed, epoch_end, lr)

    def _grew_too_much(self) -> bool:
        """The last :data:`GROWTH_STEPS` minibatch losses all exceed :data:`GROWTH_LIMIT` times the
        first step's loss (itself at least the small-weight loss ln C or (C−1)·Δ, so that a run
        starting from trained weights near 0 is not stopped by ordinary minibatch noise)."""
        losses = self.history.loss
        if len(losses) <= GROWTH_STEPS:
            return False
        if self._growth_limit is None:       # (once per run: this runs after every step)
            lc = self.cfg.loss
            floor = max(expected_initial_loss(lc.loss, self.model.num_classes, lc.margin), 0.1)
            self._growth_limit = GROWTH_LIMIT * max(losses[0], floor)
        limit = self._growth_limit
        return losses[-1] > limit and min(losses[-GROWTH_STEPS:]) > limit

    def _search_step(self, X, y):
        """Random search: a fresh random W; random local search: W + step·randn.
        The candidate replaces the current weights if its loss on this minibatch is lower
        than the current weights' loss on the same minibatch."""
        model = self.model
        o = self.cfg.optim
        params = model.param_list()
        current = model.loss(X, y, grads=False)
        old = [p.copy() for p in params]
        if o.optimizer == "random-search":
            for p, w in zip(params, random_weights_like(params, o.search_scale, self.rng)):
                p[...] = w
        else:
            for p in params:
                p += (self.rng.standard_normal(p.shape) * o.local_step).astype(p.dtype)
        cand = model.loss(X, y, grads=False)
        if cand[0] < current[0] or not math.isfinite(current[0]):
            return (*cand, tuple(model.params))
        for p, w in zip(params, old):
            p[...] = w
        return (*current, ())

    def _result(self, loss, data_loss, reg_loss, changed, epoch_end, lr=None) -> StepResult:
        return StepResult(self.steps, self.epoch, loss, data_loss, reg_loss,
                          self.lr if lr is None else lr, self.batch_size, changed, epoch_end,
                          self.diverged, self.reason)

    # -------------------------------------------------------------- evaluation
    def evaluate(self, split: str = "val") -> tuple[float, float, float, float]:
        """``(total, data, reg, accuracy)`` over a whole split."""
        X, y = self.data.split(split)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.model.evaluate(X, y)

    def evaluate_epoch(self) -> None:
        """The per-epoch curve's point: training loss and accuracy on (at most) the first
        :data:`EPOCH_TRAIN_EXAMPLES` training examples, as CS231n's Solver measures them, and the
        whole validation split. (On CIFAR-sized inputs a full pass over the training set took as
        long as a dozen steps, every epoch; :meth:`summary` still evaluates every example.)"""
        n = min(len(self.data.y_train), EPOCH_TRAIN_EXAMPLES)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            tr = self.model.evaluate(self.data.X_train[:n], self.data.y_train[:n])
        va = self.evaluate("val")
        h = self.history
        h.eval_step.append(self.steps)
        h.eval_epoch.append(self.epoch)
        h.train_loss.append(tr[0])
        h.train_acc.append(tr[3])
        h.val_loss.append(va[0])
        h.val_acc.append(va[3])

    def reset(self, seed: int | None = None) -> None:
        """Re-initialise the weights from the (given or configured) seed and clear history."""
        if seed is not None:
            self.cfg.seed = int(seed)
        fresh = build_model(self.model.input_dim, self.model.num_classes, self.cfg.model, self.cfg.loss, self.cfg.seed)
        self.model.set_params(fresh.params)
        self._begin()
        self.compute_initial(from_init=True)

    # -------------------------------------------------------------- state transfer
    _STATE_FIELDS = ("base_lr", "batch_size", "steps", "samples_seen", "diverged", "reason", "_pos",
                     "_epochs_done", "seconds")

    def state_dict(self) -> dict:
        """Everything that determines the next step, as plain data (copies): weights, optimizer
        moments, the minibatch order and random stream, counters, history and configuration.
        ``load_state_dict`` on a trainer of the same data continues the run exactly."""
        return {"config": self.cfg.to_dict(),
                "params": self.model.copy_params(),
                "optimizer": self.optimizer.state() if self.optimizer is not None else None,
                "rng": self.rng.bit_generator.state,
                "perm": self._perm.copy(),
                "history": self.history.to_dict(),
                "initial": list(self.initial), "initial_from_init": self._initial_from_init,
                **{k: getattr(self, k) for k in self._STATE_FIELDS}}

    def restore_history(self, history: History, samples_seen: int) -> None:
        """Continue a saved run (an opened experiment, its weights already in the model): its
        history, step count and position in the epochs."""
        self.history = history
        self._growth_limit = None
        self.steps = int(history.step[-1]) if history.step else 0
        self.samples_seen = max(0, int(samples_seen))
        n = len(self.data.y_train)
        self._epochs_done = self.samples_seen // n
        self._pos = self.samples_seen % n

    def load_state_dict(self, state: dict) -> None:
        cfg = ExperimentConfig.from_dict(state["config"])
        self.cfg.optim = cfg.optim
        self.cfg.loss.reg_strength = cfg.loss.reg_strength
        self.model.set_reg_strength(cfg.loss.reg_strength)
        self.model.set_params(state["params"])
        if self.optimizer is not None and state["optimizer"] is not None:
            self.optimizer.load_state(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        self._perm = np.array(state["perm"], copy=True)
        self.history = History(**{k: list(v) for k, v in state["history"].items()})
        self._growth_limit = None
        for k in self._STATE_FIELDS:
            setattr(self, k, state[k])
        if state.get("initial") is not None:
            self.initial = tuple(float(v) for v in state["initial"])
            self._initial_from_init = bool(state.get("initial_from_init", False))
        else:
            self.compute_initial()

    @property
    def budget_spent(self) -> bool:
        """The configured epochs are done (``optim.epochs`` ≥ 0; -1 trains until stopped). The one
        test the window's worker, the training process and the controller all use."""
        epochs = self.cfg.optim.epochs
        return epochs >= 0 and self.epoch >= epochs - 1e-9

    def fit(self, epochs: int, on_step=None, should_stop=None) -> None:
        """Train ``epochs`` more epochs (stops early on divergence or when ``should_stop()``,
        asked before every step); ``on_step(result)`` after every step.  The run loop is
        :func:`engine.runloop.run`."""
        target = self._epochs_done + epochs
        run(self, done=lambda: self._epochs_done >= target, check=should_stop, on_step=on_step)

    def summary(self) -> dict:
        """The numbers the CLI prints as JSON."""
        tr = self.evaluate("train")
        va = self.evaluate("val")
        te = self.evaluate("test")
        return {"train_accuracy": tr[3], "val_accuracy": va[3], "test_accuracy": te[3],
                "final_loss": tr[0], "data_loss": tr[1], "reg_loss": tr[2],
                "val_loss": va[0], "steps": self.steps, "epochs": round(self.epoch, 4),
                "seconds": round(self.seconds, 4), "initial_loss": self.initial[0],
                "initial_data_loss": self.initial[1], "diverged": self.diverged, "reason": self.reason,
                "parameters": self.model.num_params}


# ---------------------------------------------------------------------------- live settings
@dataclass(frozen=True)
class LiveSetting:
    """A setting that may change between two steps of a run, without a reset."""
    name: str                                   # how the window and the training process name it
    path: str                                   # the configuration field it is (engine.config.get_path)
    apply: Callable[[Trainer, Any], None]       # puts a new value into a trainer


def _optim_field(field_name: str) -> Callable[[Trainer, Any], None]:
    def apply(trainer: Trainer, value) -> None:   # read afresh at every step (scheduled_lr, budget_spent)
        setattr(trainer.cfg.optim, field_name, value)
    return apply


#: every live setting, by name: the one list the window, its controller and the training process read
LIVE_SETTINGS: dict[str, LiveSetting] = {s.name: s for s in (
    LiveSetting("lr", "optim.lr", lambda t, v: t.set_learning_rate(float(v))),
    LiveSetting("reg_strength", "loss.reg_strength", lambda t, v: t.set_reg_strength(float(v))),
    LiveSetting("batch_size", "optim.batch_size", lambda t, v: t.set_batch_size(int(v))),
    LiveSetting("epochs", "optim.epochs", _optim_field("epochs")),
    LiveSetting("schedule", "optim.schedule", _optim_field("schedule")),
    LiveSetting("step_every", "optim.step_every", _optim_field("step_every")),
    LiveSetting("gamma", "optim.gamma", _optim_field("gamma")),
)}

#: configuration path → live setting name (e.g. ``"optim.lr"`` → ``"lr"``)
LIVE_PATHS: dict[str, str] = {s.path: s.name for s in LIVE_SETTINGS.values()}


def apply_setting(trainer: Trainer, name: str, value) -> None:
    """Apply one live setting (between steps); an unknown name raises KeyError."""
    LIVE_SETTINGS[name].apply(trainer, value)
