"""Predictions on the validation set: confusion matrix, accuracy per class, and a gallery of
validation samples with their top class probabilities.  Computed on the GUI thread from a model
snapshot (set_model) — at most when the snapshot changes, and only while this tab is shown."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .. import style

MAX_EVAL = 3000
GALLERY = 6


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, c: int) -> np.ndarray:
    """``(C, C)`` counts: row = true class, column = predicted class."""
    return np.bincount(y_true * c + y_pred, minlength=c * c).reshape(c, c)


class PredictionsView(QWidget):
    title = "Predictions"

    def __init__(self, state, window=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.model = None
        self.dataset = None
        self._dirty = False
        self._key = None
        lay = QVBoxLayout(self)
        self.caption = QLabel("Predictions appear once a dataset and a model are ready.")
        lay.addWidget(self.caption)
        self.glw = style.live_view(pg.GraphicsLayoutWidget())
        lay.addWidget(self.glw, 1)
        self.cmap = style.sequential_cmap()
        self.confusion = None
        self.accuracy = None

    # hooks the window calls
    def set_dataset(self, d) -> None:
        self.dataset = d
        self._dirty = True

    def set_model(self, m) -> None:
        self.model = m
        self._dirty = True

    def _build(self, c: int, names, gallery: bool) -> None:
        g = self.glw
        g.clear()
        cm = g.addPlot(row=0, col=0, rowspan=1)
        style.style_plot(cm, "Confusion matrix (validation)", "true class", "predicted class")
        cm.showGrid(x=False, y=False)
        cm.invertY(True)
        cm.setAspectLocked(True)
        img = pg.ImageItem(axisOrder="row-major")
        img.setLookupTable(self.cmap.getLookupTable(nPts=256))
        cm.addItem(img)
        ticks = [[(k + 0.5, str(n)[:8]) for k, n in enumerate(names)]]
        cm.getAxis("left").setTicks(ticks)
        cm.getAxis("bottom").setTicks(ticks)
        texts = []
        if c <= 12:
            for i in range(c):
                row = []
                for j in range(c):
                    t = pg.TextItem("", anchor=(0.5, 0.5), color=style.FG)
                    t.setPos(j + 0.5, i + 0.5)
                    cm.addItem(t)
                    row.append(t)
                texts.append(row)
        acc = g.addPlot(row=0, col=1)
        style.style_plot(acc, "Accuracy per class", "accuracy", "class")
        acc.setYRange(0, 1.05)
        acc.setXRange(-0.6, c - 0.4, padding=0)   # every class's bar, not just the first
        acc.disableAutoRange()
        acc.setPreferredWidth(420)
        acc.setMinimumWidth(300)
        acc.getAxis("bottom").setTicks([[(k, str(n)[:8]) for k, n in enumerate(names)]])
        bars = pg.BarGraphItem(x=np.arange(c), height=np.zeros(c), width=0.7,
                               brushes=[pg.mkBrush(style.class_color(k)) for k in range(c)])
        acc.addItem(bars)
        g.ci.layout.setColumnStretchFactor(0, 1)
        g.ci.layout.setColumnStretchFactor(1, 1)
        gal = g.addLayout(row=1, col=0, colspan=2)
        cells = []
        for i in range(GALLERY):
            lab = gal.addLabel("", row=0, col=i, size=f"{style.font_pt(-2):.0f}pt")
            vb = gal.addViewBox(row=1, col=i, lockAspect=True, enableMouse=False)
            vb.invertY(True)
            im = pg.ImageItem(axisOrder="row-major")
            vb.addItem(im)
            cells.append((lab, vb, im))
        g.ci.layout.setRowStretchFactor(0, 3)
        g.ci.layout.setRowStretchFactor(1, 1)
        self.confusion = (cm, img, texts)
        self.accuracy = (acc, bars)
        self.gallery = cells

    def refresh(self) -> bool:
        if not self._dirty or self.model is None or self.dataset is None:
            return False
        self._dirty = False
        d, m = self.dataset, self.model
        if m.input_dim != d.num_features:
            return False
        X, y = d.X_val[:MAX_EVAL], d.y_val[:MAX_EVAL]
        if len(y) == 0:
            X, y = d.X_train[:MAX_EVAL], d.y_train[:MAX_EVAL]
        c = d.num_classes
        with np.errstate(all="ignore"):
            P = m.probabilities(X)
        pred = P.argmax(axis=1)
        key = (c, tuple(d.class_names), d.name)
        if key != self._key:
            self._build(c, d.class_names, True)
            self._key = key
        M = confusion_matrix(y, pred, c)
        cm, img, texts = self.confusion
        rows = M.sum(axis=1, keepdims=True)
        frac = np.where(rows > 0, M / np.maximum(rows, 1), 0.0).astype(np.float32)
        img.setImage(np.ascontiguousarray(frac), levels=(0.0, 1.0), autoLevels=False)
        for i, row in enumerate(texts):
            for j, t in enumerate(row):
                t.setText(str(M[i, j]))
        per_class = np.where(rows[:, 0] > 0, np.diag(M) / np.maximum(rows[:, 0], 1), 0.0)
        self.accuracy[1].setOpts(height=per_class)
        total = float(np.mean(pred == y)) if len(y) else float("nan")
        self.caption.setText(f"{len(y)} validation examples: accuracy {total:.1%}. "
                             "Rows: true class; columns: predicted class.")
        # gallery: evenly spread samples, the top-3 probabilities under each
        idx = np.linspace(0, len(y) - 1, min(GALLERY, len(y))).astype(int) if len(y) else []
        raw = d.raw_val if d.raw_val is not None and len(d.raw_val) >= len(y) else None
        shape = tuple(d.input_shape)
        for cell, i in zip(self.gallery, idx):
            lab, vb, im = cell
            top = np.argsort(-P[i])[:3]
            ok = pred[i] == y[i]
            mark = "✓" if ok else "✗"
            lines = [f"{mark} true: {d.class_names[y[i]][:10]}"] + \
                    [f"{d.class_names[k][:10]} {P[i, k]:.0%}" for k in top]
            lab.setText("<br>".join(lines), color="#81c784" if ok else "#ff8a65")
            if raw is not None:
                a = np.asarray(raw[i], dtype=np.float32)
            elif len(shape) == 3 and int(np.prod(shape)) <= X.shape[1]:
                a = X[i, :int(np.prod(shape))].reshape(shape)
            else:  # 2-D point: a swatch in the colour of its predicted class
                a = np.ones((4, 4, 3), np.float32) * style.class_rgb(c)[pred[i]]
                lab.setText(f"({X[i, 0]:.2f}, {X[i, 1]:.2f})<br>" + "<br>".join(lines),
                            color="#81c784" if ok else "#ff8a65")
                im.setImage(a, levels=(0.0, 1.0), autoLevels=False)
                continue
            if a.ndim == 3 and a.shape[2] == 1:
                a = a[:, :, 0]
            lo, hi = float(a.min()), float(a.max())
            im.setImage(np.ascontiguousarray(a), levels=(lo, hi if hi > lo else lo + 1), autoLevels=False)
        return True

    def export_item(self):
        return self.glw.ci
