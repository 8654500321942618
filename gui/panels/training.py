"""Training panel: optimizer, learning rate (log slider + entry), schedule, batch size, epochs,
seed; Train/Pause, Step, Reset; progress with steps per second and time left."""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QProgressBar,
                               QPushButton)

from engine.config import OPTIMIZERS, SCHEDULES

from ..views.caption import LiveCaption
from ..widgets.log_slider import LogSlider
from .base import Panel, dspin, form, spin


class TrainingPanel(Panel):
    sections = ("optim", "seed")

    def __init__(self, window, parent=None):
        super().__init__(window, parent)
        box = QGroupBox("Optimizer")
        f = form()
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.optimizer.currentTextChanged.connect(lambda t: self.edit("optim.optimizer", t))
        self.lr = LogSlider(1e-4, 10.0, 0.1)
        self.lr.valueEdited.connect(lambda v: self.edit("optim.lr", v, True))
        self.momentum = dspin(0.0, 0.999, 0.05)
        self.momentum.valueChanged.connect(lambda v: self.edit("optim.momentum", v))
        self.schedule = QComboBox()
        self.schedule.addItems(SCHEDULES)
        self.schedule.currentTextChanged.connect(lambda t: self.edit("optim.schedule", t))
        self.step_every = spin(1, 10000)
        self.step_every.valueChanged.connect(lambda v: self.edit("optim.step_every", v))
        self.gamma = dspin(0.01, 1.0, 0.05)
        self.gamma.valueChanged.connect(lambda v: self.edit("optim.gamma", v))
        self.batch = spin(1, 100000, 8)
        self.batch.valueChanged.connect(lambda v: self.edit("optim.batch_size", v))
        self.epochs = spin(0, 100000)
        self.epochs.valueChanged.connect(lambda v: self.edit("optim.epochs", v))
        self.forever = QCheckBox("until stopped")
        self.forever.toggled.connect(self._forever)
        ep = QHBoxLayout()
        ep.addWidget(self.epochs, 1)
        ep.addWidget(self.forever)
        self.forever.setText("∞")
        self.forever.setToolTip("Train until stopped")
        self.seed = spin(0, 2**31 - 1)
        self.seed.valueChanged.connect(lambda v: self.edit("seed", v))
        f.addRow("Optimizer", self.optimizer)
        f.addRow("Learning rate", self.lr)
        f.addRow("Momentum", self.momentum)
        f.addRow("Schedule", self.schedule)
        f.addRow("Drop every (epochs)", self.step_every)
        f.addRow("Gamma", self.gamma)
        f.addRow("Batch size", self.batch)
        f.addRow("Epochs", ep)
        f.addRow("Seed", self.seed)
        box.setLayout(f)

        from PySide6.QtWidgets import QGridLayout
        buttons = QGridLayout()
        self.train_btn = QPushButton("▶  Train")
        self.train_btn.setToolTip("Train / pause (Space)")
        self.train_btn.setObjectName("primary")
        self.train_btn.setCheckable(True)
        self.train_btn.clicked.connect(lambda _: window.toggle_training())
        self.step_btn = QPushButton("Step")
        self.step_btn.setToolTip("Exactly one minibatch update (→)")
        self.step_btn.clicked.connect(lambda: window.step_once())
        self.reset_btn = QPushButton("Reset")
        self.reset_btn.setToolTip("Re-initialise the weights with the seed (R)")
        self.reset_btn.clicked.connect(lambda: window.reset_training())
        self.train_btn.setMinimumHeight(44)
        buttons.addWidget(self.train_btn, 0, 0, 1, 2)
        buttons.addWidget(self.step_btn, 1, 0)
        buttons.addWidget(self.reset_btn, 1, 1)
        self.outer.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        self.outer.addWidget(self.progress)
        # three fixed lines: statistics that change 4 times a second never re-lay out the panel
        self.stats = LiveCaption("Ready — press Space to train.", lines=3)
        self.outer.addWidget(self.stats)
        # (the buttons and the progress first: always in view, however small the dock)
        self.outer.addWidget(box)
        self.outer.addStretch(1)

    def _forever(self, on: bool) -> None:
        self.epochs.setEnabled(not on)
        self.edit("optim.epochs", -1 if on else max(1, self.epochs.value()))

    def _load(self, cfg) -> None:
        o = cfg.optim
        self.optimizer.setCurrentText(o.optimizer)
        self.lr.setValue(o.lr)
        self.momentum.setValue(o.momentum)
        self.momentum.setEnabled(o.optimizer == "momentum")
        self.schedule.setCurrentText(o.schedule)
        self.step_every.setValue(o.step_every)
        self.step_every.setEnabled(o.schedule == "step")
        self.gamma.setValue(o.gamma)
        self.gamma.setEnabled(o.schedule != "constant")
        self.batch.setValue(o.batch_size)
        self.forever.setChecked(o.epochs < 0)
        self.epochs.setEnabled(o.epochs >= 0)
        if o.epochs >= 0:
            self.epochs.setValue(o.epochs)
        self.seed.setValue(cfg.seed)

    def set_running(self, running: bool) -> None:
        self.train_btn.setChecked(running)
        self.train_btn.setText("❚❚  Pause" if running else "▶  Train")
        self.step_btn.setEnabled(not running)
