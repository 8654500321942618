"""The package installs whole: every source folder is a listed package, the bundled files are
package data, and they are found through importlib.resources (engine/resources.py), not by
climbing out of the source tree.  `.ci/run` also builds the wheel, installs it into a fresh
virtual environment and trains and plays a walkthrough from it."""
import tomllib
from pathlib import Path

from engine.resources import MISSING, PACKAGE, resource_path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_source_folder_is_a_listed_package():
    found = {str(p.parent.relative_to(ROOT)).replace("/", ".")
             for top in ("engine", "gui") for p in (ROOT / top).rglob("__init__.py")}
    listed = set(_setuptools()["packages"])
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"
    assert PACKAGE in listed and _setuptools()["package-dir"][PACKAGE] == "resources"


def test_every_bundled_file_is_package_data():
    patterns = _setuptools()["package-data"][PACKAGE]
    bundled = [p.relative_to(ROOT / "resources") for p in (ROOT / "resources").rglob("*")
               if p.is_file() and p.suffix in (".npz", ".json", ".md")]
    assert len(bundled) >= 15
    for rel in bundled:
        assert any(rel.match(pat) for pat in patterns), f"{rel} would be left out of the wheel"


def test_resources_are_found_through_the_package():
    for name in ("digits.npz", "cifar10_4k.npz", "walkthroughs/01_simple.json", "DATASETS.md"):
        path = resource_path(*name.split("/"))
        assert path.is_file(), path
        assert not str(path).startswith(str(MISSING))
    assert len(list(resource_path("walkthroughs").glob("*.json"))) >= 10


def test_a_missing_resources_package_is_named(monkeypatch):
    """Without the package the path does not exist, and the loader's message says to reinstall."""
    import pytest

    from engine import resources
    from engine.datasets import DatasetError
    from engine.datasets.digits import read_digits
    monkeypatch.setattr(resources, "PACKAGE", "backprop_studio_resources_not_installed")
    path = resources.resource_path("digits.npz")
    assert not path.exists()
    with pytest.raises(DatasetError, match="reinstall"):
        read_digits(path)
