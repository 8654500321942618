"""The dataset registry: every dataset the application offers, named once.

One :class:`DatasetInfo` per dataset says what the configuration's ``dataset.name`` is, how the
set is shown (title, one-line description), where its data comes from (generated, bundled, a
folder and/or a file the user gives, a download into the cache), which loader makes it and the
settings a first run on it needs. The command line's ``--dataset`` choices and help, the
configuration's validation, the per-dataset defaults and the window's Dataset panel all read
this table; :func:`engine.datasets.load_dataset` calls the loader it names.

Adding a dataset: write its loader (a function ``load(cfg, progress=None)`` in a module of this
package that ends with :func:`~engine.datasets.preprocess.build_dataset`; one that downloads also
takes ``cache_dir`` and ``base_url``) and add one entry below. A toy 2-D set is a point generator
in :mod:`engine.datasets.toy` plus one :func:`_toy` entry.

This module imports nothing else of the engine, so :mod:`engine.config` can read it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

# the kinds of dataset, with what they are called in lists and help texts
KINDS = {"toy": "toy 2-D sets", "bundled": "bundled (offline)", "official": "published sets (a folder or a download)",
         "user": "your own data"}
SOURCES = ("folder", "file")


@dataclass(frozen=True)
class DatasetInfo:
    name: str                   # dataset.name in configurations and experiment files, --dataset
    title: str                  # the name people read
    description: str            # one line: what the examples are and where they come from
    kind: str                   # toy (generated 2-D points) | bundled (shipped, offline) |
    #                             official (a published set: a folder, or downloaded) | user (the user's data)
    loader: str                 # "module:function" in engine.datasets, imported on first use; for a
    #                             toy set the point generator, for the others the loader
    reads: tuple[str, ...] = ()  # which of dataset.data_dir ("folder") / dataset.data_file ("file") it reads
    downloads: bool = False     # can fetch its files into the cache (dataset.download, --download)
    # settings a first run needs, {"section.field": value}; applied only where the user chose nothing
    defaults: dict[str, object] = field(default_factory=dict)

    @property
    def is_toy(self) -> bool:
        return self.kind == "toy"

    @property
    def reads_folder(self) -> bool:
        return "folder" in self.reads

    @property
    def reads_file(self) -> bool:
        return "file" in self.reads

    def resolve(self) -> Callable:
        """The loader (or, for a toy set, the point generator) this entry names."""
        module, function = self.loader.split(":")
        return getattr(importlib.import_module(f".{module}", __package__), function)


def _toy(name: str, title: str, description: str) -> DatasetInfo:
    return DatasetInfo(name, title, f"{description}; 2-D points, generated", "toy", f"toy:{name}")


# What a first run needs on each dataset, measured with every other setting at its default (MLP
# [100] relu, he init, softmax, L2 1e-3, sgd, batch 64, 10 epochs). Raw 0..255 pixels with the toy
# sets' lr 0.1 blow the loss up to ~1e9 and stay at chance; standardized CIFAR-sized images with
# lr 0.01 train (cifar10-4k: ~34 % test after 10 epochs, ~31 % after 2; 0.03 overfits sooner).
# The bundled digits train raw too, but standardized they reach ~95 % with no early loss spike.
# MNIST / Fashion-MNIST: pixels / 255 with lr 0.1, the usual MLP recipe. The toy sets, CSV and
# NPZ have none: the configuration's own defaults (no preprocessing, lr 0.1) are theirs.
_CIFAR_LIKE = {"dataset.preprocess": "standardize", "optim.lr": 0.01}
_SCALED = {"dataset.preprocess": "scale", "optim.lr": 0.1}

_ENTRIES = (
    _toy("spiral", "Spiral", "K interleaved spiral arms, as in the CS231n case study"),
    _toy("circles", "Circles", "concentric rings, one class per ring"),
    _toy("xor", "XOR", "a checkerboard of the quadrants (a K x K board for K > 2 classes)"),
    _toy("gaussians", "Gaussian blobs", "one blob per class, centres on a circle"),
    _toy("moons", "Moons", "interleaved half-moons"),
    DatasetInfo("digits", "Digits 8x8", "1,797 handwritten digits, 8x8 grey, 10 classes; bundled (offline)",
                "bundled", "digits:load_digits",
                defaults={"dataset.preprocess": "standardize", "optim.lr": 0.1}),
    DatasetInfo("cifar10-4k", "CIFAR-10 (4,000 images)",
                "the first 4,000 CIFAR-10 training images, 32x32 colour, 10 classes; bundled (offline)",
                "bundled", "cifar10_4k:load_cifar10_4k", defaults=_CIFAR_LIKE),
    DatasetInfo("cifar10", "CIFAR-10", "60,000 images, 32x32 colour, 10 classes: the official archive "
                "(a folder or the .tar.gz), or downloaded into the cache",
                "official", "official:load_cifar10", reads=("folder", "file"), downloads=True,
                defaults=_CIFAR_LIKE),
    DatasetInfo("mnist", "MNIST", "70,000 handwritten digits, 28x28 grey, 10 classes: the four IDX files "
                "in a folder, or downloaded into the cache",
                "official", "official:load_mnist", reads=("folder",), downloads=True, defaults=_SCALED),
    DatasetInfo("fashion-mnist", "Fashion-MNIST", "70,000 pictures of clothing, 28x28 grey, 10 classes: "
                "the four IDX files in a folder, or downloaded into the cache",
                "official", "official:load_mnist", reads=("folder",), downloads=True, defaults=_SCALED),
    DatasetInfo("folder", "Image folder", "your images: one sub-folder per class (PNG, JPEG, PPM/PGM), "
                "resized to a square", "user", "userdata:load_folder", reads=("folder",),
                defaults=_CIFAR_LIKE),
    DatasetInfo("csv", "CSV file", "your table: a label column and numeric feature columns",
                "user", "userdata:load_csv", reads=("file",)),
    DatasetInfo("npz", "NPZ file", "your arrays: x (N, D) or images (N, H, W[, C]) and labels y (N,)",
                "user", "userdata:load_npz", reads=("file",)),
)

REGISTRY: dict[str, DatasetInfo] = {d.name: d for d in _ENTRIES}


def dataset_names(kind: str | None = None) -> tuple[str, ...]:
    """Every dataset's name in the order the application lists them, or those of one ``kind``."""
    return tuple(n for n, d in REGISTRY.items() if kind is None or d.kind == kind)


def dataset_info(name: str) -> DatasetInfo | None:
    """The entry of dataset ``name``, or None for a name no dataset has."""
    return REGISTRY.get(name)


def is_toy(name: str) -> bool:
    """Whether ``name`` is a generated toy 2-D set (a millisecond to make)."""
    info = REGISTRY.get(name)
    return info is not None and info.is_toy


def describe_kinds() -> str:
    """``"toy 2-D sets: spiral, circles, …; bundled (offline): digits, …"``, for help texts."""
    return "; ".join(f"{title}: {names_that(lambda d, k=kind: d.kind == k)}" for kind, title in KINDS.items())


def names_that(predicate: Callable[[DatasetInfo], bool]) -> str:
    """``"cifar10, mnist, fashion-mnist"``: the names of the sets ``predicate`` holds for, for help texts."""
    return ", ".join(n for n, d in REGISTRY.items() if predicate(d))
