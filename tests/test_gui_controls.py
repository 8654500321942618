"""Every control of every panel reaches the configuration the worker trains with."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")



def _trainer_cfg(w):
    return w.controller.trainer.cfg


def test_training_panel_controls(qtbot, window):
    w = window
    p = w.training_panel
    p.optimizer.setCurrentText("momentum")
    assert w.config().optim.optimizer == "momentum" == _trainer_cfg(w).optim.optimizer
    p.momentum.setValue(0.8)
    assert _trainer_cfg(w).optim.momentum == pytest.approx(0.8)
    p.lr.entry.setText("0.02")
    p.lr.entry.editingFinished.emit()
    assert w.controller.trainer.lr == pytest.approx(0.02)
    p.lr.slider.setValue(p.lr.slider.maximum())
    assert w.config().optim.lr == pytest.approx(10.0)
    assert w.controller.trainer.base_lr == pytest.approx(10.0)
    p.schedule.setCurrentText("step")
    p.step_every.setValue(3)
    p.gamma.setValue(0.25)
    o = _trainer_cfg(w).optim
    assert (o.schedule, o.step_every, o.gamma) == ("step", 3, pytest.approx(0.25))
    p.batch.setValue(8)
    assert w.controller.trainer.batch_size == 8
    p.forever.setChecked(False)
    p.epochs.setValue(7)
    assert _trainer_cfg(w).optim.epochs == 7
    p.forever.setChecked(True)
    assert _trainer_cfg(w).optim.epochs == -1
    p.seed.setValue(11)
    assert w.config().seed == 11
    w.reset_training()
    assert _trainer_cfg(w).seed == 11


def test_loss_panel_controls(qtbot, window):
    w = window
    p = w.loss_panel
    p.loss.setCurrentText("svm")
    p.margin.setValue(2.0)
    lc = w.controller.trainer.model.loss_cfg
    assert (lc.loss, lc.margin) == ("svm", 2.0)
    p.reg.setCurrentText("elastic")
    p.l1_ratio.setValue(0.3)
    p.reg_bias.setChecked(True)
    lc = w.controller.trainer.model.loss_cfg
    assert (lc.reg, lc.l1_ratio, lc.reg_bias) == ("elastic", pytest.approx(0.3), True)
    p.strength.entry.setText("0.05")
    p.strength.entry.editingFinished.emit()
    assert w.config().loss.reg_strength == pytest.approx(0.05)
    assert _trainer_cfg(w).loss.reg_strength == pytest.approx(0.05)
    assert "elastic" not in p.formula.text() or "r |W" in p.formula.text()


def test_architecture_panel_controls(qtbot, window):
    w = window
    p = w.architecture_panel
    p.add_btn.click()
    assert len(w.config().model.hidden) == 2
    p.table.cellWidget(1, 0).setValue(9)
    p.table.cellWidget(1, 1).setCurrentText("tanh")
    m = w.controller.trainer.model
    assert m.model_cfg.hidden == [16, 9] and m.model_cfg.activations == ["relu", "tanh"]
    assert m.params["W2"].shape == (16, 9)
    p.table.setCurrentCell(1, 0)
    p.up_btn.click()
    assert w.config().model.hidden == [9, 16]
    p.table.setCurrentCell(0, 0)
    p.down_btn.click()
    assert w.config().model.hidden == [16, 9]
    p.leaky.setValue(0.1)
    p.elu.setValue(0.5)
    p.init.setCurrentText("xavier")
    mc = w.controller.trainer.model.model_cfg
    assert (mc.leaky_slope, mc.elu_alpha, mc.init) == (pytest.approx(0.1), pytest.approx(0.5), "xavier")
    p.remove_btn.click()
    assert len(w.config().model.hidden) == 1
    p.linear.setChecked(True)
    assert w.controller.trainer.model.is_linear
    assert "parameters" in p.diagram.text() and "W1" in p.diagram.text()
    p.mlp.setChecked(True)
    assert not w.controller.trainer.model.is_linear


@pytest.mark.slow
def test_dataset_panel_controls(qtbot, window):
    w = window
    p = w.dataset_panel
    for control, value, path in ((p.classes, 4, "classes"), (p.samples, 30, "samples"),
                                 (p.noise, 0.1, "noise"), (p.data_seed, 5, "seed"),
                                 (p.val, 0.25, "val_fraction"), (p.test, 0.15, "test_fraction")):
        with qtbot.waitSignal(w.dataset_changed, timeout=10000):
            control.setValue(value)
        assert getattr(w.config().dataset, path) == pytest.approx(value)
    d = w.current_dataset()
    assert d.num_classes == 4 and w.controller.trainer.model.num_classes == 4
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 4 * 30
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        p.preprocess.setCurrentText("standardize")
    assert w.current_dataset().preprocess in ("standardize", "none")  # toy sets may ignore it
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        p.name.setCurrentText("moons")
    assert w.current_dataset().name == "moons" and w.controller.trainer.data is w.current_dataset()
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        p.name.setCurrentText("digits")
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        p.subsample.setValue(200)
    assert len(w.current_dataset().y_train) <= 200
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        p.bias_trick.setChecked(True)
    assert w.controller.trainer.model.input_dim == w.current_dataset().num_features
