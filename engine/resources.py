"""Where the bundled files are.

The checkout's ``resources/`` folder is installed as the package ``backprop_studio_resources``
(``pyproject.toml`` maps the one to the other), so the bundled data and walkthroughs are found
through :mod:`importlib.resources` the same way in a checkout, an editable install and a wheel.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "backprop_studio_resources"
MISSING = Path("<the bundled resources are not installed: reinstall Backprop Studio>")


def resource_path(*parts: str) -> Path:
    """The bundled file or folder ``parts`` as a path on disk (the application is installed
    unzipped).  When the resources package is missing the path does not exist, so the loaders'
    "missing (reinstall the application)" messages name the problem."""
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:
        return MISSING.joinpath(*parts)
    if not isinstance(root, Path):       # a zip import: not a layout this application ships
        return MISSING.joinpath(*parts)
    return root.joinpath(*parts)
