"""Experiment configuration: everything ``train`` takes, as plain validated dataclasses.

The same :class:`ExperimentConfig` is built by the command line, by the GUI's panels
and read from an experiment file, so all three train exactly the same thing.
``from_dict`` rejects unknown keys and wrong types with a message naming the field.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

from . import scalar_ops  # noqa: F401  (registers the activations)
from .datasets.registry import dataset_info, dataset_names
from .ops import OPS, op_names

#: the hidden layers' activations, in the order they are registered in engine.scalar_ops
#: (the Architecture panel's and the command line's order)
ACTIVATIONS = op_names("activation")
LOSSES = ("softmax", "svm")
REGULARIZERS = ("none", "l1", "l2", "elastic")
OPTIMIZERS = ("sgd", "momentum", "adam", "random-search", "random-local-search")
SCHEDULES = ("constant", "step", "exponential")
INITS = ("small", "xavier", "he")
PREPROCESS = ("none", "mean", "scale", "standardize")
DTYPES = ("float32", "float64")

# Bounds of the integer settings: the command line's flags, the panels and experiment files all
# meet these (a typo such as --samples 1000000000 is refused at once instead of filling memory).
MAX_SEED = 2**63 - 1              # seeds: 0 .. 2**63 - 1
MAX_CLASSES = 50
MAX_SAMPLES = 100_000             # toy sets: points per class
MAX_SUBSAMPLE = 10_000_000
MAX_IMAGE_SIZE = 512
MAX_UNITS = 100_000               # units of one hidden layer
MAX_LAYERS = 100                  # hidden layers
MAX_LAYER_WEIGHTS = 100_000_000   # weights between two hidden layers (400 MB as float32)
MAX_BATCH = 1_000_000
MAX_EPOCHS = 1_000_000
MAX_INT_BITS = 128                # integers beyond this are refused before any arithmetic


class ConfigError(ValueError):
    """A configuration value is unusable; the message names the field."""


@dataclass
class DatasetConfig:
    name: str = "spiral"          # a name in engine.datasets.registry
    classes: int = 3
    samples: int = 100            # toy sets: points per class
    noise: float = 0.2
    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    data_dir: str = ""            # the folder of a set that reads one (the registry's reads_folder)
    data_file: str = ""           # the file of a set that reads one (reads_file)
    download: bool = False        # sets that download: fetch into the cache if missing
    subsample: int = 0            # 0 = all training examples
    preprocess: str = "none"      # none | mean | scale | standardize
    bias_trick: bool = False      # append a constant 1 feature (W absorbs b)
    image_size: int = 32          # image folders are resized to image_size x image_size
    cifar_format: str = "python"  # download format: python | binary

    def validate(self) -> None:
        _choice("dataset.name", self.name, dataset_names())
        _choice("dataset.preprocess", self.preprocess, PREPROCESS)
        _choice("dataset.cifar_format", self.cifar_format, ("python", "binary"))
        if self.classes < 2:
            raise ConfigError(f"dataset.classes must be at least 2, got {_show(self.classes)}")
        if self.classes > MAX_CLASSES:
            raise ConfigError(f"dataset.classes must be at most {MAX_CLASSES} for toy sets, got {_show(self.classes)}")
        _int_range("dataset.samples", self.samples, 1, MAX_SAMPLES, "points per class")
        _int_range("dataset.seed", self.seed, 0, MAX_SEED)
        _finite("dataset.noise", self.noise)
        _finite("dataset.val_fraction", self.val_fraction)
        _finite("dataset.test_fraction", self.test_fraction)
        if self.noise < 0:
            raise ConfigError(f"dataset.noise must not be negative, got {self.noise}")
        for name in ("val_fraction", "test_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ConfigError(f"dataset.{name} must be in [0, 1), got {v}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError("dataset.val_fraction + dataset.test_fraction must leave training data")
        if _is_int(self.subsample) and self.subsample < 0:
            raise ConfigError(f"dataset.subsample must be 0 (all) or positive, got {_show(self.subsample)}")
        _int_range("dataset.subsample", self.subsample, 0, MAX_SUBSAMPLE, "training examples")
        _int_range("dataset.image_size", self.image_size, 1, MAX_IMAGE_SIZE, "pixels a side")


@dataclass
class ModelConfig:
    hidden: list[int] = field(default_factory=lambda: [100])   # [] = linear classifier
    activations: list[str] = field(default_factory=lambda: ["relu"])  # one per hidden layer
    leaky_slope: float = 0.2      # the lecture draws max(0.2x, x)
    elu_alpha: float = 1.0
    init: str = "he"              # small (0.0001 * randn, the lecture's) | xavier | he
    init_scale: float = 1e-4      # only for init="small"
    dtype: str = "float32"

    def activation_attrs(self, activation: str) -> dict[str, float]:
        """The attributes this configuration gives ``activation``'s op (Op.config_attrs:
        leaky ReLU's slope is ``leaky_slope``); ``{}`` for one without parameters."""
        return {attr: getattr(self, name) for attr, name in OPS[activation].config_attrs.items()}

    def fields_in_use(self) -> set[str]:
        """The parameter fields (``leaky_slope``, ``elu_alpha``) some hidden layer's activation reads."""
        return {name for a in self.activations if a in OPS for name in OPS[a].config_attrs.values()}

    def validate(self) -> None:
        _choice("model.init", self.init, INITS)
        _choice("model.dtype", self.dtype, DTYPES)
        if len(self.hidden) > MAX_LAYERS:
            raise ConfigError(f"model.hidden has {len(self.hidden)} hidden layers, too many (at most {MAX_LAYERS})")
        for i, h in enumerate(self.hidden):
            if not _is_int(h) or h < 1:
                raise ConfigError(f"model.hidden[{i}] must be a positive number of units, got {_show(h)}")
            if h > MAX_UNITS:
                raise ConfigError(f"model.hidden[{i}] = {_show(h)} units is too many (at most {MAX_UNITS})")
        for i in range(len(self.hidden) - 1):
            n = self.hidden[i] * self.hidden[i + 1]
            if n > MAX_LAYER_WEIGHTS:
                raise ConfigError(f"model.hidden[{i}] × model.hidden[{i + 1}] = {n:,} weights between two "
                                  f"layers is too many (at most {MAX_LAYER_WEIGHTS:,})")
        if len(self.activations) != len(self.hidden):
            raise ConfigError(f"model.activations has {len(self.activations)} entries "
                              f"but there are {len(self.hidden)} hidden layers")
        for i, a in enumerate(self.activations):
            _choice(f"model.activations[{i}]", a, ACTIVATIONS)
        for name in ("leaky_slope", "elu_alpha", "init_scale"):
            _finite(f"model.{name}", getattr(self, name))
        if self.elu_alpha <= 0:
            raise ConfigError(f"model.elu_alpha must be positive, got {self.elu_alpha}")
        if not 0 <= self.leaky_slope < 1:
            raise ConfigError(f"model.leaky_slope must be in [0, 1), got {self.leaky_slope}")
        if self.init_scale <= 0:
            raise ConfigError(f"model.init_scale must be positive, got {self.init_scale}")


@dataclass
class LossConfig:
    loss: str = "softmax"
    margin: float = 1.0           # SVM margin (delta); the lecture uses 1
    reg: str = "l2"
    reg_strength: float = 1e-3    # lambda
    l1_ratio: float = 0.5         # elastic net: R = r*L1 + (1-r)*L2
    reg_bias: bool = False        # regularize biases too

    def validate(self) -> None:
        _choice("loss.loss", self.loss, LOSSES)
        _choice("loss.reg", self.reg, REGULARIZERS)
        for name in ("margin", "reg_strength", "l1_ratio"):
            _finite(f"loss.{name}", getattr(self, name))
        if self.margin < 0:
            raise ConfigError(f"loss.margin must not be negative, got {self.margin}")
        if self.reg_strength < 0:
            raise ConfigError(f"loss.reg_strength must not be negative, got {self.reg_strength}")
        if not 0 <= self.l1_ratio <= 1:
            raise ConfigError(f"loss.l1_ratio must be in [0, 1], got {self.l1_ratio}")


@dataclass
class OptimConfig:
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 64
    epochs: int = 10              # 0 = evaluate only; GUI: -1 = until stopped
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    schedule: str = "constant"
    step_every: int = 10          # step schedule: epochs between drops
    gamma: float = 0.5            # step: multiply by gamma; exponential: lr0 * gamma**epoch
    search_scale: float = 1e-4    # random search: W ~ scale * randn (the lecture's 0.0001)
    local_step: float = 1e-3      # random local search: W + step * randn

    def validate(self) -> None:
        _choice("optim.optimizer", self.optimizer, OPTIMIZERS)
        _choice("optim.schedule", self.schedule, SCHEDULES)
        for name in ("lr", "momentum", "beta1", "beta2", "gamma", "search_scale", "local_step"):
            _finite(f"optim.{name}", getattr(self, name))
        if not self.lr > 0:
            raise ConfigError(f"optim.lr (learning rate) must be positive, got {self.lr}")
        _int_range("optim.batch_size", self.batch_size, 1, MAX_BATCH, "examples")
        if _is_int(self.epochs) and self.epochs < -1:
            raise ConfigError(f"optim.epochs must be >= 0 (or -1 for until stopped), got {_show(self.epochs)}")
        _int_range("optim.epochs", self.epochs, -1, MAX_EPOCHS)
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"optim.momentum must be in [0, 1), got {self.momentum}")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise ConfigError(f"optim.{name} must be in [0, 1), got {v}")
        _int_range("optim.step_every", self.step_every, 1, MAX_EPOCHS, "epochs")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"optim.gamma must be in (0, 1], got {self.gamma}")
        if self.search_scale <= 0 or self.local_step <= 0:
            raise ConfigError("optim.search_scale and optim.local_step must be positive")


@dataclass
class ExperimentConfig:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0                 # initialisation and minibatch order

    def validate(self) -> "ExperimentConfig":
        _int_range("seed", self.seed, 0, MAX_SEED)
        self.dataset.validate()
        self.model.validate()
        self.loss.validate()
        self.optim.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "ExperimentConfig":
        cfg = _from_dict(cls, data, "")
        return cfg.validate()

    def copy(self) -> "ExperimentConfig":
        return ExperimentConfig.from_dict(self.to_dict())


# ------------------------------------------------------------------ per-dataset defaults
def dataset_defaults(name: str) -> dict[str, object]:
    """The settings a first run on dataset ``name`` needs to train, as ``{"section.field": value}``
    (e.g. ``{"dataset.preprocess": "standardize", "optim.lr": 0.01}`` for ``cifar10-4k``): the
    registry's ``defaults`` (engine.datasets.registry, where the measurements behind them are).

    Image sets get a preprocessing and a learning rate; the toy sets, CSV and NPZ get ``{}`` (the
    configuration's own defaults are theirs). Apply them with :func:`apply_defaults` only to
    settings the user has not chosen. Returns a new dict each call.
    """
    info = dataset_info(name)
    return dict(info.defaults) if info is not None else {}


def get_path(cfg: "ExperimentConfig", path: str) -> Any:
    """The value at ``"section.field"`` (e.g. ``"optim.lr"``) or a top-level ``"seed"``."""
    obj = cfg
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(cfg: "ExperimentConfig", path: str, value: Any) -> None:
    """Write a (deep) copy of ``value`` at ``"section.field"``: a list the caller keeps is not shared."""
    *parents, last = path.split(".")
    obj = cfg
    for part in parents:
        obj = getattr(obj, part)
    if not hasattr(obj, last):
        raise ConfigError(f"unknown setting {path}")
    setattr(obj, last, copy.deepcopy(value))


def apply_defaults(cfg: "ExperimentConfig", defaults: dict[str, object],
                   keep: Any = ()) -> dict[str, object]:
    """Put ``defaults`` (from :func:`dataset_defaults`) into ``cfg``, except the paths in ``keep``
    (the settings the user chose). Returns the ones applied, in order."""
    applied = {}
    for path, value in defaults.items():
        if path in keep:
            continue
        set_path(cfg, path, value)
        applied[path] = value
    return applied


def describe_defaults(applied: dict[str, object]) -> str:
    """``"preprocess standardize, lr 0.01"``: the applied defaults by their short names."""
    return ", ".join(f"{path.rsplit('.', 1)[-1]} {value:g}" if isinstance(value, float)
                     else f"{path.rsplit('.', 1)[-1]} {value}" for path, value in applied.items())


def _choice(field_name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"{field_name} must be one of {', '.join(options)}; got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    """``repr`` of a value, but an integer of thousands of digits is described, not printed."""
    if _is_int(value) and value.bit_length() > 64:
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits"
    return repr(value)


def _int_range(name: str, value: Any, lo: int, hi: int, unit: str = "") -> None:
    if not _is_int(value):
        raise ConfigError(f"{name} must be an integer, got {_show(value)}")
    if value < lo:
        raise ConfigError(f"{name} must be at least {lo}, got {_show(value)}")
    if value > hi:
        raise ConfigError(f"{name} must be at most {hi:,}{' ' + unit if unit else ''}, got {_show(value)}")


def _finite(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {_show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} is {'NaN' if math.isnan(value) else 'infinite'}; it must be a finite number")


def _from_dict(cls, data: Any, prefix: str):
    where = prefix.rstrip(".") or "the configuration"
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be an object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown field {prefix}{unknown[0]} (known: {', '.join(sorted(known))})")
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        name = prefix + f.name
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            kwargs[f.name] = _from_dict(hint, value, name + ".")
        else:
            kwargs[f.name] = _coerce(name, value, hint)
    return cls(**kwargs)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer, got {_show(value)}")
        if value.bit_length() > MAX_INT_BITS:
            raise ConfigError(f"{name} is {_show(value)}, far too large")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, got {_show(value)}")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise ConfigError(f"{name} is {_show(value)}, far too large")
        _finite(name, value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, got {value!r}")
        return value
    if hint == list[int]:
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise ConfigError(f"{name} must be a list of integers, got {_show_list(value)}")
        for i, v in enumerate(value):
            if v.bit_length() > MAX_INT_BITS:
                raise ConfigError(f"{name}[{i}] is {_show(v)}, far too large")
        return list(value)
    if hint == list[str]:
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of strings, got {_show_list(value)}")
        return list(value)
    raise ConfigError(f"{name}: unsupported field type {hint}")  # pragma: no cover


def _show_list(value: Any) -> str:
    text = "[" + ", ".join(_show(v) for v in value[:8]) + (", …]" if len(value) > 8 else "]") \
        if isinstance(value, list) else _show(value)
    return text if len(text) <= 200 else text[:200] + "…"
