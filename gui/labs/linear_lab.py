"""The linear classifier you can grab (issue 15, part 1) — the CS231n interactive linear-classifier
demo: 2-D points of C classes, each class's weight row drawn as an arrow from the origin with its
zero-score line ``w·x + b = 0``; drag an arrow's tip to change ``w``, the round handle on a line to
move the line along its normal (``b``); the argmax regions, the loss terms and the total follow
live.  The numbers come from :mod:`engine.linear_demo` (the engine's own losses)."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QPushButton, QSpinBox,
                               QVBoxLayout)

from engine import linear_demo as D

from .. import style
from .base import Lab
from .common import MatrixEditor, big_font, label, make_plot, on_restyle, pen, px, row

SETS = (("gaussians", "Gaussian blobs"), ("spiral", "Spiral"), ("circles", "Circles"),
        ("moons", "Moons"), ("xor", "XOR"), ("empty", "Empty (click to add)"))
LOSS_NAMES = (("svm", "Multiclass SVM (hinge)"), ("softmax", "Softmax (cross-entropy)"))
VIEW = 2.0          # the plot shows [-VIEW, VIEW]²
GRID = 100         # the regions' grid (100² scores: well under a millisecond)
BIAS_T = 1.0        # the bias handle sits this far along its line from the line's point nearest the origin


def _n(v: float, d: int = 3) -> str:
    if not np.isfinite(v):
        return "—"
    return f"{v:.{d}f}".replace("-", "−")


class Handle(pg.TargetItem):
    """A draggable round handle (pixel-sized); a left click on it is taken (no point is added)."""

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() == Qt.LeftButton:
            ev.accept()
        else:
            super().mouseClickEvent(ev)


class ClickImage(pg.ImageItem):
    """The regions image, behind everything: clicks on it add (left) or remove (right) points."""

    def __init__(self, on_click):
        super().__init__(axisOrder="row-major")
        self.on_click = on_click

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() in (Qt.LeftButton, Qt.RightButton):
            ev.accept()
            self.on_click(ev.scenePos(), ev.button())


class LinearLab(Lab):
    title = "Linear classifier"
    blurb = ("grab a class's arrow (its row of W) or the handle on its line (b): s = W x + b, "
             "each point goes to the highest score.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.C = 3
        self.X = np.zeros((0, 2))
        self.y = np.zeros(0, dtype=np.int64)
        self.W, self.b = D.default_params(self.C)
        self.result: D.LinearResult | None = None
        self.grad_shown = False
        self._syncing = False
        self._hover = None
        self._scatter_key = None

        top = QHBoxLayout()
        self.body.addLayout(top, 1)
        # ---- the plot
        self.plot = make_plot("", "x₁", "x₂")
        self.plots["points"] = self.plot
        vb = self.plot.getViewBox()
        vb.setAspectLocked(True)
        vb.setMouseEnabled(False, False)
        vb.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()
        vb.setRange(xRange=(-VIEW, VIEW), yRange=(-VIEW, VIEW), padding=0)
        vb.disableAutoRange()
        vb.sigRangeChanged.connect(lambda *_a: self._draw_regions() if self.result is not None else None)
        self.image = ClickImage(self._clicked)
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.image.setRect(QRectF(-VIEW, -VIEW, 2 * VIEW, 2 * VIEW))
        self.scatter = pg.ScatterPlotItem()
        self.scatter.setZValue(5)
        self.plot.addItem(self.scatter)
        self.hover_ring = pg.ScatterPlotItem()
        self.hover_ring.setZValue(6)
        self.plot.addItem(self.hover_ring)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        top.addWidget(self.plot, 3)
        self.lines: list = []        # per class: zero-score line, arrow shaft, arrow head, grad shaft, grad head
        self.tips: list[Handle] = []
        self.bias: list[Handle] = []

        # ---- the side panel
        side = QVBoxLayout()
        top.addLayout(side, 2)
        self.set_combo = QComboBox()
        for _name, title in SETS:
            self.set_combo.addItem(title)
        self.n_classes = QSpinBox()
        self.n_classes.setRange(2, 6)
        self.n_classes.setValue(3)
        self.class_combo = QComboBox()
        self.loss_combo = QComboBox()
        for _name, title in LOSS_NAMES:
            self.loss_combo.addItem(title)
        self.margin = self._spin(0.0, 10.0, 1.0, 0.1, 2)
        self.reg = self._spin(0.0, 10.0, 0.1, 0.01, 3)
        self.lr = self._spin(0.001, 10.0, 0.5, 0.05, 3)
        for wdg in (self.set_combo, self.n_classes, self.class_combo, self.loss_combo):
            wdg.setFont(big_font())
        grid = QGridLayout()
        grid.addWidget(label("Points:"), 0, 0)
        grid.addWidget(self.set_combo, 0, 1)
        grid.addWidget(label("classes:"), 0, 2)
        grid.addWidget(self.n_classes, 0, 3)
        grid.addWidget(label("Click adds:"), 1, 0)
        grid.addWidget(self.class_combo, 1, 1)
        grid.addWidget(label("(right click removes)", -2), 1, 2, 1, 2)
        grid.addWidget(label("Loss:"), 2, 0)
        grid.addWidget(self.loss_combo, 2, 1, 1, 3)
        self.margin_label = label("margin Δ:")
        grid.addWidget(self.margin_label, 3, 0)
        grid.addWidget(self.margin, 3, 1)
        grid.addWidget(label("λ:"), 3, 2)
        grid.addWidget(self.reg, 3, 3)
        side.addLayout(grid)

        self.table = MatrixEditor(np.c_[self.W, self.b], col_names=["w₁", "w₂", "b"], digits=3)
        # (after the edit's own handling: the table's items are made again when W, b are set)
        self.table.edited.connect(lambda: QTimer.singleShot(0, self, self._table_edited))
        side.addWidget(label("W (one row per class) and b — edit, or drag in the plot:", -1))
        side.addWidget(self.table)

        self.loss_label = label("", 3)
        side.addWidget(self.loss_label)
        self.step_button = QPushButton("Gradient step")
        self.run_button = QPushButton("Run")
        self.random_button = QPushButton("Randomize")
        for bt in (self.step_button, self.run_button, self.random_button):
            bt.setFont(big_font())
        self.step_button.setToolTip("First press: draw −∂L/∂w at each arrow's tip; second press: W ← W − α·dW, b ← b − α·db")
        self.step_button.clicked.connect(self.gradient_step)
        self.run_button.clicked.connect(self.toggle_run)
        self.random_button.clicked.connect(self.randomize)
        side.addLayout(row(label("step α:"), self.lr, self.step_button, stretch=True))
        side.addLayout(row(self.run_button, self.random_button))
        self.hover_label = label("Hover over a point: its scores and loss terms.", 1)
        side.addWidget(self.hover_label)
        side.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(40)
        self.timer.timeout.connect(self._run_tick)

        self.set_combo.currentIndexChanged.connect(lambda _i: self.load_points())
        self.n_classes.valueChanged.connect(lambda _v: self.load_points(new_params=True))
        self.loss_combo.currentIndexChanged.connect(lambda _i: self.update_all())
        for sb in (self.margin, self.reg):
            sb.valueChanged.connect(lambda _v: self.update_all())
        on_restyle(self.restyle)
        self.reset()

    @staticmethod
    def _spin(lo, hi, value, step, decimals) -> QDoubleSpinBox:
        sb = QDoubleSpinBox()
        sb.setRange(lo, hi)
        sb.setDecimals(decimals)
        sb.setSingleStep(step)
        sb.setValue(value)
        sb.setFont(big_font())
        return sb

    # ------------------------------------------------------------------ state
    @property
    def loss(self) -> str:
        return LOSS_NAMES[self.loss_combo.currentIndex()][0]

    def evaluate(self) -> D.LinearResult:
        return D.evaluate(self.X, self.y, self.W, self.b, self.loss, self.reg.value(), self.margin.value())

    def reset(self) -> None:
        self.stop()
        for w, v in ((self.set_combo, 0), (self.n_classes, 3), (self.loss_combo, 0)):
            w.blockSignals(True)
            w.setCurrentIndex(v) if isinstance(w, QComboBox) else w.setValue(v)
            w.blockSignals(False)
        for sb, v in ((self.margin, 1.0), (self.reg, 0.1), (self.lr, 0.5)):
            sb.blockSignals(True)
            sb.setValue(v)
            sb.blockSignals(False)
        self.load_points(new_params=True)

    def load_points(self, new_params: bool = False) -> None:
        C = self.n_classes.value()
        name = SETS[self.set_combo.currentIndex()][0]
        if name == "empty":
            self.X, self.y = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        else:
            X, y = D.toy_points(name, C, 15 if C <= 4 else 10, seed=0)
            self.X = X * (1.5 / max(1e-9, float(np.abs(X).max())))     # fill the view
            self.y = y
        if new_params or C != self.C:
            self.C = C
            self.W, self.b = D.default_params(C)
            self._build_items()
        self.update_all()

    def set_params(self, W, b) -> None:
        """New W (C, 2) and b (C,): everything follows."""
        self.W = np.array(W, dtype=np.float64).reshape(self.C, 2)
        self.b = np.array(b, dtype=np.float64).reshape(self.C)
        self.grad_shown = False
        self.update_all()

    def randomize(self) -> None:
        self.set_params(*D.random_params(self.C, scale=1.2))

    def add_point(self, x: float, y: float, k: int | None = None) -> None:
        k = self.class_combo.currentIndex() if k is None else int(k)
        self.X = np.vstack([self.X, [[x, y]]])
        self.y = np.append(self.y, k).astype(np.int64)
        self.update_all()

    def remove_nearest(self, x: float, y: float) -> None:
        if len(self.y):
            i = int(np.argmin(((self.X - [x, y]) ** 2).sum(axis=1)))
            self.X = np.delete(self.X, i, axis=0)
            self.y = np.delete(self.y, i)
            self._hover = None
            self.update_all()

    def _clicked(self, scene_pos, button) -> None:
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        if button == Qt.LeftButton:
            self.add_point(p.x(), p.y())
        else:
            self.remove_nearest(p.x(), p.y())

    # ------------------------------------------------------------------ gradient descent
    def gradient_step(self) -> None:
        """First press: show −dW at each arrow's tip; second press: take the step."""
        if not self.grad_shown:
            self.grad_shown = True
            self._draw_params()
            return
        self.apply_step()

    def apply_step(self) -> None:
        r = self.result if self.result is not None else self.evaluate()
        W, b = D.gradient_step(self.W, self.b, r, self.lr.value())
        self.W, self.b = W, b
        self.grad_shown = False
        self.update_all()

    def toggle_run(self) -> None:
        if self.timer.isActive():
            self.stop()
        else:
            self.timer.start()
            self.run_button.setText("Stop")

    def stop(self) -> None:
        self.timer.stop()
        self.run_button.setText("Run")

    def _run_tick(self) -> None:
        self.apply_step()
        self.grad_shown = True       # while running the gradient arrows show
        self._draw_params()

    # ------------------------------------------------------------------ drawing
    def _build_items(self) -> None:
        for items in self.lines:
            for it in items:
                self.plot.removeItem(it)
        for h in self.tips + self.bias:
            self.plot.removeItem(h)
        self.lines, self.tips, self.bias = [], [], []
        for k in range(self.C):
            zero = pg.PlotCurveItem()
            shaft = pg.PlotCurveItem()
            head = pg.ArrowItem(pxMode=True)
            gshaft = pg.PlotCurveItem()
            ghead = pg.ArrowItem(pxMode=True)
            for z, it in ((2, zero), (7, shaft), (7, head), (8, gshaft), (8, ghead)):
                it.setZValue(z)
                self.plot.addItem(it)
            self.lines.append((zero, shaft, head, gshaft, ghead))
            tip = Handle(size=px(22), symbol="o", movable=True)
            tip.setZValue(10)
            tip.sigPositionChanged.connect(lambda _h, k=k: self._tip_moved(k))
            bh = Handle(size=px(18), symbol="s", movable=True)
            bh.setZValue(10)
            bh.sigPositionChanged.connect(lambda _h, k=k: self._bias_moved(k))
            self.plot.addItem(tip)
            self.plot.addItem(bh)
            self.tips.append(tip)
            self.bias.append(bh)
        self.class_combo.blockSignals(True)
        cur = self.class_combo.currentIndex()
        self.class_combo.clear()
        for k in range(self.C):
            self.class_combo.addItem(f"class {k}")
        self.class_combo.setCurrentIndex(min(max(cur, 0), self.C - 1))
        self.class_combo.blockSignals(False)
        self.restyle(redraw=False)

    def restyle(self, redraw: bool = True) -> None:
        """Colours of the classes in the current theme and sizes at the current scale."""
        for k in range(self.class_combo.count()):
            self.class_combo.setItemData(k, QColor(style.class_color(k)), Qt.ForegroundRole)
        for k, (tip, bh) in enumerate(zip(self.tips, self.bias)):
            c = style.class_color(k)
            for h, size in ((tip, 22), (bh, 18)):
                h.setPen(pg.mkPen(style.FG, width=2 * style.SCALE))
                h.setBrush(pg.mkBrush(c))
                h.setHoverBrush(pg.mkBrush(style.FG))
                h.setHoverPen(pg.mkPen(c, width=3 * style.SCALE))
                h.scale = px(size)          # (TargetItem's symbol size in pixels)
                h.viewTransformChanged()    # (its shape is made again at that size)
        if redraw:
            self._scatter_key = None
            self.update_all()

    def _draw_params(self) -> None:
        self._syncing = True
        try:
            r = self.result
            for k in range(self.C):
                zero, shaft, head, gshaft, ghead = self.lines[k]
                c = style.class_color(k)
                w, bk = self.W[k], self.b[k]
                zl = D.zero_line(w, bk)
                if zl is None:
                    zero.setData([], [])
                    p_bias = np.zeros(2)
                else:
                    p0, d = zl
                    ends = np.array([p0 - 10 * VIEW * d, p0 + 10 * VIEW * d])
                    zero.setData(ends[:, 0], ends[:, 1], pen=pen(c, 3, Qt.DashLine))
                    p_bias = p0 + BIAS_T * d
                shaft.setData([0, w[0]], [0, w[1]], pen=pen(c, 5))
                self._head(head, w, w, c, 26)
                self.tips[k].setPos(float(w[0]), float(w[1]))
                self.bias[k].setPos(float(p_bias[0]), float(p_bias[1]))
                show = self.grad_shown and r is not None
                if show:
                    g = -r.dW[k]
                    end = w + g
                    gshaft.setData([w[0], end[0]], [w[1], end[1]], pen=pen(style.FG, 4, Qt.DotLine))
                    self._head(ghead, end, g, style.FG, 20)
                gshaft.setVisible(show)
                ghead.setVisible(show and float(np.hypot(*r.dW[k])) > 1e-9)
        finally:
            self._syncing = False
        self.step_button.setText("Apply step" if self.grad_shown and not self.timer.isActive() else "Gradient step")
        self.table.blockSignals(True)
        self.table.set_values(np.c_[self.W, self.b])
        self.table.setVerticalHeaderLabels([f"class {k}" for k in range(self.C)])
        self.table.blockSignals(False)

    @staticmethod
    def _head(item, pos, direction, color, size) -> None:
        ang = math.degrees(math.atan2(direction[1], direction[0]))
        item.setStyle(angle=180 - ang, headLen=px(size), tipAngle=36, tailLen=0,
                      pen=pg.mkPen(color, width=1), brush=pg.mkBrush(color))
        item.setPos(float(pos[0]), float(pos[1]))

    def update_all(self) -> None:
        """Recompute (engine) and redraw everything: regions, points, arrows, lines, numbers."""
        self.result = r = self.evaluate()
        self._draw_regions()
        wrong = r.predictions != self.y
        key = (self.X.tobytes(), self.y.tobytes(), wrong.tobytes(), style.THEME, style.SCALE)
        if key != self._scatter_key:        # (points drawn again only when they or their verdicts change)
            self._scatter_key = key
            if len(self.y):
                self.scatter.setData(
                    self.X[:, 0], self.X[:, 1], size=px(17),
                    brush=[pg.mkBrush(style.class_color(int(k))) for k in self.y],
                    pen=[pg.mkPen(style.FG, width=4 * style.SCALE) if bad else pg.mkPen(style.BG, width=1.5 * style.SCALE)
                         for bad in wrong])
            else:
                self.scatter.setData([], [])
        self._draw_params()
        self.margin.setEnabled(self.loss == "svm")
        self.margin_label.setEnabled(self.loss == "svm")
        acc = float(np.mean(r.predictions == self.y)) if len(self.y) else float("nan")
        self.loss_label.setText(
            f"data loss <b>{_n(r.data_loss)}</b> + λR(W) <b>{_n(r.reg_loss)}</b><br>"
            f"= total L <b>{_n(r.total)}</b><br>"
            f"<span style='font-size:small'>{len(self.y)} points, {_n(100 * acc, 0)} % right "
            f"(thick ring: classified wrong)</span>")
        self._show_hover()

    def _draw_regions(self) -> None:
        """The argmax class on a GRID × GRID grid over the visible range (pixel centres)."""
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        hx, hy = (x1 - x0) / GRID, (y1 - y0) / GRID
        reg = D.regions(self.W, self.b, (x0 + hx / 2, x1 - hx / 2), (y0 + hy / 2, y1 - hy / 2), GRID)
        lut = np.array([[*QColor(style.class_color(k)).getRgb()[:3], 70] for k in range(self.C)], dtype=np.uint8)
        self.image.setImage(lut[reg], autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    # ------------------------------------------------------------------ hover
    def _mouse_moved(self, scene_pos) -> None:
        if not len(self.y):
            return
        vb = self.plot.getViewBox()
        p = vb.mapSceneToView(scene_pos)
        d = np.hypot(self.X[:, 0] - p.x(), self.X[:, 1] - p.y())
        i = int(np.argmin(d))
        tol = vb.viewPixelSize()[0] * px(14)
        self.hover_point(i if d[i] <= tol else None)

    def hover_point(self, i: int | None) -> None:
        """Show point ``i``'s scores and loss terms (None: nothing)."""
        self._hover = i
        self._show_hover()

    def _show_hover(self) -> None:
        i, r = self._hover, self.result
        if i is None or r is None or i >= len(self.y):
            self.hover_ring.setData([], [])
            return
        yi = int(self.y[i])
        self.hover_ring.setData([self.X[i, 0]], [self.X[i, 1]], size=px(30), brush=pg.mkBrush(0, 0, 0, 0),
                                pen=pg.mkPen(style.FG, width=3 * style.SCALE))
        parts = []
        for k in range(self.C):
            c = style.class_color(k)
            s = f"<span style='color:{c}'>s<sub>{k}</sub> = {_n(r.scores[i, k], 2)}</span>"
            if self.loss == "svm" and k != yi:
                s += f"  max(0, {_n(r.scores[i, k], 2)} − {_n(r.scores[i, yi], 2)} + {_n(self.margin.value(), 1)}) = <b>{_n(r.terms[i, k], 2)}</b>"
            elif self.loss == "softmax":
                s += f"  p = {_n(r.probs[i, k], 3)}"
            if k == yi:
                s += "  ← correct class"
            parts.append(s)
        tail = ("L<sub>i</sub> = Σ terms" if self.loss == "svm" else "L<sub>i</sub> = −log p<sub>y</sub>")
        parts.append(f"{tail} = <b>{_n(r.losses[i], 3)}</b>")
        self.hover_label.setText(f"Point {i} (x = {_n(self.X[i, 0], 2)}, {_n(self.X[i, 1], 2)}), "
                                 f"class {yi}:<br>" + "<br>".join(parts))

    # ------------------------------------------------------------------ dragging
    def _tip_moved(self, k: int) -> None:
        if self._syncing:
            return
        p = self.tips[k].pos()
        W = self.W.copy()
        W[k] = (p.x(), p.y())
        self.set_params(W, self.b)

    def _bias_moved(self, k: int) -> None:
        """The line through the handle's position, along its normal: b = −w·p."""
        if self._syncing:
            return
        p = self.bias[k].pos()
        b = self.b.copy()
        b[k] = -float(self.W[k] @ [p.x(), p.y()])
        self.set_params(self.W, b)

    def _table_edited(self) -> None:
        v = self.table.values()
        if v.shape == (self.C, 3) and np.all(np.isfinite(v)):
            self.set_params(v[:, :2], v[:, 2])

    # ------------------------------------------------------------------ lab hooks
    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(0, self, self._mark_result)

    def hideEvent(self, event):  # noqa: N802
        super().hideEvent(event)
        self.stop()

    def shutdown(self) -> None:
        self.stop()
        super().shutdown()


if __name__ == "__main__":     # python -m gui.labs.linear_lab [out.png]: the lab at 1600×1000, offscreen
    import os
    import sys
    import tempfile
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("BACKPROP_STUDIO_SETTINGS", os.path.join(tempfile.mkdtemp(), "s.ini"))
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    style.configure_pyqtgraph()
    from gui.app import create_window
    titles = []
    try:
        win = create_window(restore=False)
        lw = win.labs_widget
        titles = [lw.tabs.tabText(k) for k in range(lw.tabs.count())]
    except Exception as exc:  # noqa: BLE001  (a window another change breaks: the lab alone)
        print("the window could not be made:", exc)
    if LinearLab.title in titles:
        win.resize(1600, 1000)
        win.show()
        win.tabs.setCurrentWidget(lw)
        lw.tabs.setCurrentIndex(titles.index(LinearLab.title))
        shown, target = lw.lab("LinearLab"), win
    else:                       # (not in the lab list: the lab alone)
        shown = target = LinearLab()
        target.resize(1600, 1000)
        target.show()
    for _ in range(10):
        app.processEvents()
    shown.hover_point(3)
    shown.gradient_step()       # the gradient arrows
    for _ in range(10):
        app.processEvents()
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/linear_lab.png"
    target.grab().save(out)
    print(out)
