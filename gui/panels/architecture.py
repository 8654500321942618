"""Architecture panel: linear classifier or MLP; add, remove and reorder hidden layers; units and
activation per layer; leaky-ReLU slope, ELU alpha, initialisation; a live diagram of the stack
with each weight's shape and the parameter count."""
from __future__ import annotations

import copy

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QRadioButton, QTableWidget)

from engine.config import ACTIVATIONS, INITS

from .base import Panel, dspin, form, spin


class ArchitecturePanel(Panel):
    sections = ("model", "dataset", "loss")

    def __init__(self, window, parent=None):
        super().__init__(window, parent)
        kind = QHBoxLayout()
        self.linear = QRadioButton("Linear classifier  f = Wx + b")
        self.mlp = QRadioButton("MLP")
        g = QButtonGroup(self)
        g.addButton(self.linear)
        g.addButton(self.mlp)
        self.linear.toggled.connect(self._kind)
        kind.addWidget(self.linear)
        kind.addWidget(self.mlp)
        self.outer.addLayout(kind)
        self.layers_box = QGroupBox("Hidden layers")
        lay = QHBoxLayout()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["units", "activation"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.setMinimumHeight(130)
        lay.addWidget(self.table, 1)
        col = QHBoxLayout()
        from PySide6.QtWidgets import QVBoxLayout
        col = QVBoxLayout()
        self.add_btn = QPushButton("+ layer")
        self.remove_btn = QPushButton("− layer")
        self.up_btn = QPushButton("↑")
        self.down_btn = QPushButton("↓")
        for b in (self.add_btn, self.remove_btn, self.up_btn, self.down_btn):
            col.addWidget(b)
        col.addStretch(1)
        self.add_btn.clicked.connect(self.add_layer)
        self.remove_btn.clicked.connect(self.remove_layer)
        self.up_btn.clicked.connect(lambda: self.move_layer(-1))
        self.down_btn.clicked.connect(lambda: self.move_layer(1))
        lay.addLayout(col)
        self.layers_box.setLayout(lay)
        self.outer.addWidget(self.layers_box)
        box = QGroupBox("Details")
        f = form()
        self.leaky = dspin(0.0, 0.99, 0.05, 2)
        self.leaky.valueChanged.connect(lambda v: self._model_edit(leaky_slope=v))
        self.elu = dspin(0.01, 10.0, 0.1, 2)
        self.elu.valueChanged.connect(lambda v: self._model_edit(elu_alpha=v))
        self.init = QComboBox()
        self.init.addItems(INITS)
        self.init.currentTextChanged.connect(lambda t: self._model_edit(init=t))
        f.addRow("Leaky-ReLU slope", self.leaky)
        f.addRow("ELU α", self.elu)
        f.addRow("Initialisation", self.init)
        box.setLayout(f)
        self.outer.addWidget(box)
        self.diagram = QLabel()
        self.diagram.setObjectName("formula")
        self.diagram.setWordWrap(True)
        self.outer.addWidget(self.diagram)
        self.outer.addStretch(1)
        self._mcfg = None
        self._last_hidden = ([50, 50], ["relu", "relu"])

    # ------------------------------------------------------------------ edits
    def _model_edit(self, **changes) -> None:
        if self._loading or self._mcfg is None:
            return
        m = copy.deepcopy(self._mcfg)
        for k, v in changes.items():
            setattr(m, k, v)
        self.edit("model", m)

    def _kind(self, linear: bool) -> None:
        if self._loading or self._mcfg is None:
            return
        if linear:
            if self._mcfg.hidden:
                self._last_hidden = (list(self._mcfg.hidden), list(self._mcfg.activations))
            self._model_edit(hidden=[], activations=[])
        else:
            h, a = self._last_hidden
            self._model_edit(hidden=list(h), activations=list(a))

    def _table_edit(self) -> None:
        hidden, acts = [], []
        for r in range(self.table.rowCount()):
            hidden.append(self.table.cellWidget(r, 0).value())
            acts.append(self.table.cellWidget(r, 1).currentText())
        self._model_edit(hidden=hidden, activations=acts)

    def add_layer(self) -> None:
        m = self._mcfg
        r = self.table.currentRow()
        r = len(m.hidden) if r < 0 else r + 1
        units = m.hidden[r - 1] if r > 0 and m.hidden else 50
        act = m.activations[r - 1] if r > 0 and m.activations else "relu"
        self._model_edit(hidden=m.hidden[:r] + [units] + m.hidden[r:],
                         activations=m.activations[:r] + [act] + m.activations[r:])

    def remove_layer(self) -> None:
        m = self._mcfg
        if not m.hidden:
            return
        r = self.table.currentRow()
        r = len(m.hidden) - 1 if r < 0 else r
        self._model_edit(hidden=m.hidden[:r] + m.hidden[r + 1:], activations=m.activations[:r] + m.activations[r + 1:])

    def move_layer(self, d: int) -> None:
        m = self._mcfg
        r = self.table.currentRow()
        j = r + d
        if r < 0 or not 0 <= j < len(m.hidden):
            return
        h, a = list(m.hidden), list(m.activations)
        h[r], h[j] = h[j], h[r]
        a[r], a[j] = a[j], a[r]
        self._model_edit(hidden=h, activations=a)
        self.table.setCurrentCell(j, 0)

    # ------------------------------------------------------------------ view
    def _load(self, cfg) -> None:
        m = cfg.model
        self._mcfg = copy.deepcopy(m)
        self.linear.setChecked(not m.hidden)
        self.mlp.setChecked(bool(m.hidden))
        self.layers_box.setEnabled(bool(m.hidden))
        cur = self.table.currentRow()
        self.table.setRowCount(len(m.hidden))
        for r, (h, a) in enumerate(zip(m.hidden, m.activations)):
            s = spin(1, 100000)
            s.setValue(h)
            s.valueChanged.connect(lambda _v: self._table_edit())
            c = QComboBox()
            c.addItems(ACTIVATIONS)
            c.setCurrentText(a)
            c.currentTextChanged.connect(lambda _t: self._table_edit())
            self.table.setCellWidget(r, 0, s)
            self.table.setCellWidget(r, 1, c)
        if 0 <= cur < len(m.hidden):
            self.table.setCurrentCell(cur, 0)
        self.leaky.setValue(m.leaky_slope)
        self.elu.setValue(m.elu_alpha)
        self.init.setCurrentText(m.init)
        self.update_diagram(cfg)

    def update_diagram(self, cfg, dataset=None) -> None:
        d = dataset or self.window.current_dataset()
        D = d.num_features if d is not None else 2
        C = d.num_classes if d is not None else cfg.dataset.classes
        sizes = [D, *cfg.model.hidden, C]
        acts = [*cfg.model.activations, cfg.loss.loss]
        lines = [f"<b>input</b> x ∈ ℝ<sup>{D}</sup>"]
        total = 0
        for i in range(len(sizes) - 1):
            fi, fo = sizes[i], sizes[i + 1]
            total += fi * fo + fo
            lines.append(f"&nbsp;&nbsp;↓ W{i + 1} ∈ ℝ<sup>{fo}×{fi}</sup>, b{i + 1} ∈ ℝ<sup>{fo}</sup>")
            name = "scores s" if i == len(sizes) - 2 else f"h{i + 1}"
            lines.append(f"<b>{name}</b> ∈ ℝ<sup>{fo}</sup> → {acts[i]}")
        lines.append(f"<br><b>{total:,}</b> parameters")
        self.diagram.setText("<br>".join(lines))
