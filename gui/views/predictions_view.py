"""Predictions on the validation set: confusion matrix, accuracy per class, and a gallery of
validation samples with their top class probabilities.  While training runs and this tab is shown,
every snapshot carries the predictions (computed off the GUI thread: gui.scorers.LivePredictions)
and the view follows them frame by frame; otherwise they are computed here from a model snapshot
(set_model)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QStaticText, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QScrollArea, QVBoxLayout

from .. import style
from .base import View
from .tiles import CategoryAxis, TileGrid, label_font

MAX_EVAL = 3000
GALLERY = 6
UNIT = QRectF(0, 0, 1, 1)   # a tile's content fills its unit square
GALLERY_CHARS = 12     # a class name in the gallery: at most this many characters


def mark_color(right: bool) -> str:
    """A gallery label's colour in the current theme: green when the prediction is right, orange
    when wrong (the theme's training / validation curve colours: readable on its background)."""
    return style.CURVE["train" if right else "val"]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, c: int) -> np.ndarray:
    """``(C, C)`` counts: row = true class, column = predicted class."""
    return np.bincount(y_true * c + y_pred, minlength=c * c).reshape(c, c)


class CellCounts(pg.GraphicsObject):
    """The confusion matrix's counts, one number centred in each unit cell of ``[0, c]²``, drawn
    in one paint at the font's pixel size whatever the zoom.  (A pyqtgraph TextItem per cell lays
    itself out again on every change, a hundred times a frame while training runs.)"""

    def __init__(self, c: int, font, color: str, strong_color: str | None = None):
        super().__init__()
        self.c, self.font = c, font
        self.texts: list[str] = [""] * (c * c)
        self.strong = np.zeros(c * c, dtype=bool)   # cells drawn in the colour map's strong end
        self._static: dict[str, QStaticText] = {}
        self.set_colors(color, strong_color or color)

    def set_colors(self, color: str, strong_color: str) -> None:
        """The counts' colour on the pale end of the colour map and on its strong end (the
        theme's text and background colours: the map runs from the background to a strong blue)."""
        self.color, self.strong_color = QColor(color), QColor(strong_color)
        self.update()

    def set_counts(self, M: np.ndarray, frac: np.ndarray | None = None) -> None:
        """The counts, and (``frac``, each cell's colour-map value in [0, 1]) which cells are
        drawn in the strong colour (over 0.5: the text takes the other end's colour)."""
        texts = [str(int(v)) for v in np.asarray(M).ravel()]
        strong = self.strong if frac is None else np.asarray(frac).ravel() > 0.5
        if texts != self.texts or not np.array_equal(strong, self.strong):
            self.texts = texts
            self.strong = strong
            self.update()

    def text(self, i: int, j: int) -> str:
        return self.texts[i * self.c + j]

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, self.c, self.c)

    def paint(self, p, *_):
        tr = p.transform()
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        cache = self._static
        c = self.c
        pens = (self.color, self.strong_color)
        pen = None
        for k, text in enumerate(self.texts):
            want = pens[int(self.strong[k])]
            if want is not pen:
                p.setPen(want)
                pen = want
            st = cache.get(text)
            if st is None:          # laid out once per distinct count, then only drawn
                st = cache[text] = QStaticText(text)
                st.prepare(QTransform(), self.font)
                st.half = QPointF(st.size().width() / 2, st.size().height() / 2)
            p.drawStaticText(tr.map(QPointF(k % c + 0.5, k // c + 0.5)) - st.half, st)
        p.restore()


SHOWN = 0     # QGraphicsItem.data key: what an item shows now (a text, an example's key)


def _set_text(item, text: str) -> bool:
    """``item.setText(text)`` unless it shows that already (a TextItem lays itself out again on
    every setText: 100 confusion-matrix cells, 30 times a second). True if it changed."""
    if item.data(SHOWN) == text:
        return False
    item.setData(SHOWN, text)
    item.setText(text)
    return True


class PredictionsView(View):
    title = "Predictions"
    uses_dataset = uses_model = live_model = True
    shows_predictions = True

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
        # every name readable at any font scale: when the tab is smaller than that needs (a large
        # scale with the panels shown), it scrolls rather than squeezing the names together
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.scroll.setWidget(self.glw)
        self.scroll.viewport().installEventFilter(self)
        lay.addWidget(self.scroll, 1)
        self.cmap = style.sequential_cmap()
        self.confusion = None
        self.accuracy = None
        self.gallery = []
        self.gallery_grid = None
        self._scatter_key = None
        self._row_min_h = None      # the view's height with the gallery under the matrix
        self._preds_drawn = 0       # the state's preds_version last drawn

    def set_dataset(self, d) -> None:
        self.dataset = d
        self._dirty = True

    def set_model(self, m) -> None:
        self.model = m
        self._dirty = True

    def restyle(self) -> None:
        """A new font scale or theme: the matrix's colour map and counts in the theme's colours at
        once; the rest rebuilt (labels measured again, gallery colours) at the next refresh."""
        self.cmap = style.sequential_cmap()
        if self.confusion is not None:
            _, img, texts = self.confusion
            img.setLookupTable(self.cmap.getLookupTable(nPts=256))
            if texts is not None:
                texts.set_colors(style.FG, style.BG)
        self._key = None
        self._dirty = True

    def _side(self) -> bool:
        """The gallery beside the matrix: when the view is too low for it under the matrix (a
        large font scale on a projector) and wide enough beside it."""
        vp = self.scroll.viewport()
        return (self._row_min_h is not None and vp.height() < self._row_min_h
                and vp.width() > 1.3 * vp.height())

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Resize and self._key is not None and self._key[-1] != self._side():
            self._key = None        # rebuilt with the gallery where it fits, at the next refresh
            self._dirty = True
        return False

    def _build(self, c: int, names, gallery: bool, points: bool = False, side: bool = False,
               digits: int = 3) -> None:
        g = self.glw
        g.clear()
        fm = QFontMetricsF(label_font())
        # Confusion matrix: names of the true classes on the left, of the predicted classes under
        # it (upright when they would crowd), each cell at least a text line high so no name
        # overprints its neighbour, at any font scale.
        left, bottom = CategoryAxis("left"), CategoryAxis("bottom")
        cm = g.addPlot(row=0, col=0, axisItems={"left": left, "bottom": bottom})
        style.style_plot(cm, "Confusion matrix (validation)", "true class", "predicted class")
        cm.showGrid(x=False, y=False)
        cm.invertY(True)
        cm.setAspectLocked(True)
        cm.setMouseEnabled(False, False)
        cm.setMenuEnabled(False)
        cm.hideButtons()
        counts = QFontMetricsF(label_font(-2)).horizontalAdvance("0" * digits) + 8   # the widest count
        cell = max(fm.height() * 1.1, counts)
        cm.vb.setMinimumSize(c * cell, c * cell)
        img = pg.ImageItem(axisOrder="row-major")
        img.setLookupTable(self.cmap.getLookupTable(nPts=256))
        cm.addItem(img)
        cm.setRange(xRange=(0, c), yRange=(0, c), padding=0.02)
        for ax in (left, bottom):
            ax.set_categories([k + 0.5 for k in range(c)], names)
        texts = None
        if c <= 12:
            texts = CellCounts(c, label_font(-2), style.FG, style.BG)
            cm.addItem(texts)
        # Accuracy per class: a horizontal bar beside each row of the matrix (the same true
        # class, named once on the matrix's left), its value written at its end.
        acc = g.addPlot(row=0, col=1)
        style.style_plot(acc, "Accuracy per class", "", "accuracy")
        acc.invertY(True)           # row k of the matrix: the same y, the same direction
        acc.setYLink(cm)
        acc.hideAxis("left")
        acc.setXRange(-0.03, 1.3, padding=0)     # (the 0 tick label shows)
        acc.setMouseEnabled(False, False)
        acc.setMenuEnabled(False)
        acc.hideButtons()
        acc.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in (0, 0.5, 1)]])
        acc.setPreferredWidth(fm.horizontalAdvance("100%") * 5)
        acc.setMinimumWidth(fm.horizontalAdvance("100%") * 3)
        bars = pg.BarGraphItem(x0=np.zeros(c), y=np.arange(c) + 0.5, height=0.7, width=np.zeros(c),
                               brushes=[pg.mkBrush(style.class_color(k)) for k in range(c)])
        acc.addItem(bars)
        values = []
        for k in range(c):
            t = pg.TextItem("", anchor=(0, 0.5), color=style.FG)
            t.setFont(label_font(-2))
            t.setPos(0.02, k + 0.5)
            acc.addItem(t)
            values.append(t)
        g.ci.layout.setColumnStretchFactor(0, 3)
        g.ci.layout.setColumnStretchFactor(1, 1)
        # Gallery: as many examples as fit, each with the same size — in a row under the matrix,
        # or (a wide, low view: a large font scale on a projector) in a column beside it; on 2-D
        # data each is its point (ringed) on a small scatter of the training set
        widest = max([fm.horizontalAdvance(f"✗ {n[:GALLERY_CHARS]}") for n in names] +
                     [fm.horizontalAdvance(f"{n[:GALLERY_CHARS]} -00.00") for n in names])
        if side:
            vb = g.addViewBox(row=0, col=2, enableMouse=False)
            grid = TileGrid(vb, GALLERY, label_lines=4, label_above=True, font_extra=-1.0,
                            min_col_width=widest + 4, one_column=True, min_tile=fm.height() * 3)
            vb.setMinimumWidth(widest + 2 * TileGrid.GAP + 8)
            vb.setMaximumWidth(max(widest, fm.height() * 6) + 2 * TileGrid.GAP + 8)
            g.ci.layout.setColumnStretchFactor(2, 1)
        else:
            vb = g.addViewBox(row=1, col=0, colspan=2, enableMouse=False)
            grid = TileGrid(vb, GALLERY, label_lines=4, label_above=True, font_extra=-1.0,
                            min_col_width=widest + 4, one_row=True)
            gh = grid.label_h + fm.height() * (4 if points else 3) + 3 * TileGrid.GAP
            vb.setMinimumHeight(gh)
            vb.setMaximumHeight(gh * (2.6 if points else 1.6))
        cells = []
        for i in range(GALLERY):
            im = pg.ImageItem(axisOrder="row-major")
            im.setParentItem(grid.groups[i])
            cells.append(im)
        if not side:
            g.ci.layout.setRowStretchFactor(0, 3)
            g.ci.layout.setRowStretchFactor(1, 2 if points else 1)
        self.confusion = (cm, img, texts)
        self.accuracy = (acc, bars, values)
        lay = g.ci.layout
        lay.invalidate()
        m = lay.effectiveSizeHint(Qt.MinimumSize)
        self.glw.setMinimumSize(int(m.width()) + 8, int(m.height()) + 8)
        self.gallery = cells
        self.gallery_grid = grid
        self._scatter_key = None

    def _gallery_scatter(self, d, X, y, idx, c) -> None:
        """2-D data: each gallery tile shows the training points (small, in their class's colour)
        and the validation example itself, large and ringed, in its true class's colour."""
        key = (id(d), tuple(int(i) for i in idx))
        if self._scatter_key == key:
            return
        self._scatter_key = key
        bx, by = d.X_train[:MAX_EVAL, :2], d.y_train[:MAX_EVAL]
        both = np.concatenate([bx, X[:, :2]])
        lo, hi = both.min(axis=0), both.max(axis=0)
        span = float(np.max(hi - lo)) or 1.0         # one scale for both axes: the data's own shape
        def unit(P):
            u = 0.5 + 0.88 * (P - (lo + hi) / 2) / span
            u[:, 1] = 1.0 - u[:, 1]                 # y up, as in the Decision regions view
            return u
        u, ub = unit(X[:, :2]), unit(bx)
        rgb = style.class_rgb(c)
        faint = [pg.mkBrush(*(255 * rgb[k]).astype(int), 150) for k in range(c)]
        for g in self.gallery_grid.groups:
            for child in list(g.childItems()):
                if isinstance(child, (pg.ScatterPlotItem, QGraphicsRectItem)):
                    child.setParentItem(None)
                    if child.scene() is not None:
                        child.scene().removeItem(child)
        for g, i in zip(self.gallery_grid.groups, idx):
            frame = QGraphicsRectItem(0, 0, 1, 1)
            frame.setPen(pg.mkPen(style.MUTED, width=1, cosmetic=True))
            frame.setParentItem(g)
            bg = pg.ScatterPlotItem(ub[:, 0], ub[:, 1], size=max(3.0, style.line_px(1.3)), pen=None,
                                    brush=[faint[k] for k in by])
            bg.setParentItem(g)
            me = pg.ScatterPlotItem([u[i, 0]], [u[i, 1]], size=style.line_px(5),
                                    pen=pg.mkPen(style.FG, width=style.line_px(0.8)),
                                    brush=pg.mkBrush(style.class_color(int(y[i]))))
            me.setParentItem(g)

    def _live_predictions(self, n: int, c: int):
        """The training run's newest predictions of these ``n`` examples (computed off the GUI
        thread while this tab is shown, see gui.scorers.LivePredictions), if there are new ones."""
        st = self.state
        P = st.preds
        if P is None or st.preds_version == self._preds_drawn or st.dataset is not self.dataset \
                or P.shape != (n, c):
            return None
        self._preds_drawn = st.preds_version
        return P

    def refresh(self) -> bool:
        d = self.dataset
        if d is None:
            return False
        X, y = d.X_val[:MAX_EVAL], d.y_val[:MAX_EVAL]
        if len(y) == 0:
            X, y = d.X_train[:MAX_EVAL], d.y_train[:MAX_EVAL]
        c = d.num_classes
        P = self._live_predictions(len(y), c)
        if P is not None:           # live, while training: the snapshot's, nothing computed here
            self._dirty = False
            svm = getattr(self.state.loss_cfg, "loss", "softmax") == "svm"
        else:
            if not self._dirty or self.model is None:
                return False
            self._dirty = False
            m = self.model
            if m.input_dim != d.num_features:
                return False
            svm = getattr(getattr(m, "loss_cfg", None), "loss", "softmax") == "svm"
            with np.errstate(all="ignore"):
                # an SVM's scores are not probabilities (the lecture's hinge loss never makes them
                # any): the gallery shows them as they are
                P = m.scores(X).astype(np.float64) if svm else m.probabilities(X)
        pred = P.argmax(axis=1)
        raw = d.raw_val if d.raw_val is not None and len(d.raw_val) >= len(y) else None
        shape = tuple(d.input_shape)
        image = raw is not None or (len(shape) == 3 and int(np.prod(shape)) <= X.shape[1])
        points = not image and X.shape[1] >= 2
        digits = len(str(int(np.bincount(y, minlength=c).max()))) if len(y) else 1
        key = (c, tuple(d.class_names), d.name, points, style.SCALE, digits)
        if self._key is None or key != self._key[:-1] or self._key[-1] != self._side():
            if self._key is None or key != self._key[:-1]:
                self._row_min_h = None          # (measured again with the gallery under the matrix)
            side = self._side()
            self._build(c, d.class_names, True, points, side, digits)
            if not side:
                self._row_min_h = self.glw.minimumHeight()
                side = self._side()
                if side:                        # too low for the row: the gallery goes beside
                    self._build(c, d.class_names, True, points, side, digits)
            self._key = key + (side,)
        M = confusion_matrix(y, pred, c)
        cm, img, texts = self.confusion
        rows = M.sum(axis=1, keepdims=True)
        frac = np.where(rows > 0, M / np.maximum(rows, 1), 0.0).astype(np.float32)
        img.setImage(np.ascontiguousarray(frac), levels=(0.0, 1.0), autoLevels=False)
        if texts is not None:
            texts.set_counts(M, frac)
        per_class = np.where(rows[:, 0] > 0, np.diag(M) / np.maximum(rows[:, 0], 1), 0.0)
        _, bars, values = self.accuracy
        bars.setOpts(width=per_class)
        for k, t in enumerate(values):
            if _set_text(t, f"{per_class[k]:.0%}"):
                t.setPos(per_class[k] + 0.02, k + 0.5)
        total = float(np.mean(pred == y)) if len(y) else float("nan")
        what = "class scores (SVM: scores, not probabilities)" if svm else "probabilities (softmax of the scores)"
        self.caption.setText(f"{len(y)} validation examples: accuracy {total:.1%}. "
                             "Rows: true class; columns: predicted class. Bars: each true class's accuracy. "
                             f"Gallery: the true class, then the top 3 {what}" +
                             (" — each example ringed on the data." if points else "."))
        # gallery: evenly spread samples, the top-3 probabilities over each
        idx = np.linspace(0, len(y) - 1, min(GALLERY, len(y))).astype(int) if len(y) else []
        grid = self.gallery_grid
        for k, (im, i) in enumerate(zip(self.gallery, idx)):
            top = np.argsort(-P[i])[:3]
            ok = pred[i] == y[i]
            mark = "✓" if ok else "✗"
            lines = [f"{mark} {d.class_names[y[i]][:GALLERY_CHARS]}"] + \
                    [f"{d.class_names[j][:GALLERY_CHARS]} {P[i, j]:+.2f}" if svm else
                     f"{d.class_names[j][:GALLERY_CHARS]} {P[i, j]:.0%}" for j in top]
            grid.set_label(k, "\n".join(lines), mark_color(ok))
            if points:
                im.hide()
                continue
            if raw is not None:
                a = np.asarray(raw[i], dtype=np.float32)
            else:
                a = X[i, :int(np.prod(shape))].reshape(shape)
            if a.ndim == 3 and a.shape[2] == 1:
                a = a[:, :, 0]
            im.show()
            if im.data(SHOWN) == (id(d), int(i), self._key):
                continue                # the same example's picture is already there
            im.setData(SHOWN, (id(d), int(i), self._key))
            lo, hi = float(a.min()), float(a.max())
            im.setImage(np.ascontiguousarray(a), levels=(lo, hi if hi > lo else lo + 1), autoLevels=False,
                        rect=UNIT)
        if points:
            self._gallery_scatter(d, X, y, idx, c)
        return True

    def export_item(self):
        return self.glw.ci
