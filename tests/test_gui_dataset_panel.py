"""The Dataset panel lists the registry's sets and shows the controls the chosen set uses; a toy
set's preview stays a scatter of its points with the bias trick on."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


class _Window:
    """What the panel needs of the window: where its edits go."""
    def __init__(self):
        self.edits = []

    def edit_config(self, path, value, mergeable=False):
        self.edits.append((path, value))

    def load_dataset(self):
        pass


@pytest.fixture
def panel(qtbot):
    from gui.panels.dataset import DatasetPanel
    p = DatasetPanel(_Window())
    qtbot.addWidget(p)
    return p


def test_the_panel_offers_exactly_the_registry_sets(panel):
    from engine.datasets.registry import dataset_names
    assert tuple(panel.name.itemText(i) for i in range(panel.name.count())) == dataset_names()


def test_the_panel_shows_the_controls_each_set_uses(panel):
    from engine.config import ExperimentConfig
    from engine.datasets.registry import REGISTRY
    for name, info in REGISTRY.items():
        cfg = ExperimentConfig()
        cfg.dataset.name = name
        panel.load(cfg)
        assert panel.name.currentText() == name and info.title in panel.about.text()
        assert panel.toy_box.isVisibleTo(panel) == (info.kind == "toy"), name
        assert panel.src_box.isVisibleTo(panel) == bool(info.reads), name
        assert panel.data_dir.isEnabled() == info.reads_folder and panel.data_file.isEnabled() == info.reads_file
        assert panel.download.isEnabled() == info.downloads, name
    assert panel.window.edits == []              # showing a configuration edits nothing


def test_choosing_a_set_edits_the_configuration(panel):
    panel.name.setCurrentText("moons")
    assert panel.window.edits[-1] == ("dataset.name", "moons")


def test_a_toy_set_with_the_bias_trick_is_still_drawn_as_points(panel):
    import numpy as np

    from engine.config import DatasetConfig
    from engine.datasets import load_dataset
    d = load_dataset(DatasetConfig(name="circles", bias_trick=True, preprocess="standardize", subsample=50))
    panel.show_dataset(d)
    assert panel.scatter is not None
    x, y = panel.scatter.getData()
    assert len(x) == 50
    np.testing.assert_allclose(np.c_[x, y], d.X_train[:, :2])
