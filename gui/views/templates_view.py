"""Weight templates: for a linear classifier, class k's template is column k of W1 (the
lecture's row k of W) reshaped to the image (HWC); for an MLP, the first-layer units as a grid.
Diverging colour map with symmetric levels, float32 C-contiguous images."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout

from .. import style
from .base import View
from .tiles import TileGrid

MAX_UNITS = 64
UNIT = QRectF(0, 0, 1, 1)   # a template fills its tile's unit square


def weights_into_class(params: dict, c: int) -> tuple[np.ndarray, bool]:
    """How much each first-layer unit of an MLP feeds class ``c``'s score: ``W2[:, c]`` for a
    two-layer network (exact: the score is Σ_j W2[j, c]·h_j + b2[c]); for a deeper one the product
    of the later weight matrices' path into ``c`` (activations ignored).  Returns the weights and
    whether they are exact."""
    n = len(params) // 2
    path = params[f"W{n}"][:, c].astype(np.float64)
    for i in range(n - 1, 1, -1):
        path = params[f"W{i}"].astype(np.float64) @ path
    return path, n == 2


def rank_units(params: dict, c: int, limit: int = MAX_UNITS) -> tuple[np.ndarray, np.ndarray, bool]:
    """The first-layer units in the order of their weight into class ``c``'s score, largest
    first: ``(unit indices, their weights, exact)``, at most ``limit``."""
    w, exact = weights_into_class(params, c)
    order = np.argsort(-w, kind="stable")[:limit]
    return order, w[order], exact


def template_images(W1: np.ndarray, input_shape, rgb_as_color: bool = True):
    """``(K, H, W)`` or ``(K, H, W, 3)`` float32 images of W1's columns, and the symmetric bound.

    RGB templates are shown in colour: ``0.5 + w / (2 max|w|)`` per template (the lecture's
    pictures); single-channel ones go through the diverging map with levels ``[-m, m]``.
    """
    D, K = W1.shape
    shape = tuple(input_shape)
    if len(shape) == 3 and int(np.prod(shape)) == D:
        imgs = np.ascontiguousarray(W1.T.reshape((K, *shape)), dtype=np.float32)
        if shape[2] == 3 and rgb_as_color:
            m = np.abs(imgs).reshape(K, -1).max(axis=1).reshape(K, 1, 1, 1)
            m = np.where(m > 0, m, 1.0)
            return np.ascontiguousarray(0.5 + imgs / (2 * m), dtype=np.float32), 1.0
        imgs = np.ascontiguousarray(imgs.mean(axis=3), dtype=np.float32)
    else:
        imgs = None
    if imgs is None:
        return None, 0.0
    m = float(np.max(np.abs(imgs))) if imgs.size else 1.0
    return imgs, (m if m > 0 and math.isfinite(m) else 1.0)


class WeightTemplatesView(View):
    title = "Weight templates"

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._key = None
        self._drawn = -1
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.rgb_box = QCheckBox("colour templates (RGB)")
        self.rgb_box.setChecked(True)
        self.rgb_box.toggled.connect(lambda _: self._redraw_all())
        top.addWidget(self.rgb_box)
        # an MLP's first-layer units ranked for one class (the lecture: several templates per
        # class, mostly not interpretable)
        self.rank_label = QLabel("rank units for")
        self.rank = QComboBox()
        self.rank.addItem("(in order)")
        self.rank.setSizeAdjustPolicy(QComboBox.AdjustToContents)   # the longest class name, whole
        self.rank.currentIndexChanged.connect(lambda _: self._redraw_all())
        self._rank_names: tuple = ()
        top.addWidget(self.rank_label)
        top.addWidget(self.rank)
        top.addStretch(1)
        lay.addLayout(top)
        lay.addWidget(self.caption)
        self.glw = style.live_view(pg.GraphicsLayoutWidget())
        lay.addWidget(self.glw, 1)
        self.cmap = style.diverging_cmap()
        self.items: list[pg.ImageItem] = []
        self.heat = None
        self.bar = None
        self.grid = None

    def invalidate(self) -> None:
        self._drawn = -1
        self._key = None

    def _redraw_all(self) -> None:
        self.invalidate()
        self.refresh()

    def _build(self, key, n: int, names: list[str], heat: bool, slide: bool = True) -> None:
        self.glw.clear()
        self.items, self.heat, self.bar, self.grid = [], None, None, None
        if heat:
            p = self.glw.addPlot(row=0, col=0)
            style.style_plot(p, "", "input feature", "")
            img = pg.ImageItem(axisOrder="row-major")
            img.setLookupTable(self.cmap.getLookupTable(nPts=256))
            p.addItem(img)
            p.invertY(True)
            self.heat = (p, img)
            self.bar = pg.ColorBarItem(colorMap=self.cmap, values=(-1, 1), interactive=False, width=18)
            self.bar.setImageItem(img, insert_in=p)
            self._levels, self._ticks_key = 0.0, None
            return
        # one size for every template, in a grid like the slide's, each name under its picture
        vb = self.glw.addViewBox(row=0, col=0, enableMouse=False)
        self.grid = TileGrid(vb, n, slide=slide)
        for i in range(n):
            img = pg.ImageItem(axisOrder="row-major")
            img.setParentItem(self.grid.groups[i])
            self.items.append(img)
            self.grid.set_label(i, names[i] if i < len(names) else "")
        self._key = key

    def restyle(self) -> None:
        """A new font scale or theme: the theme's colour map (zero = its background); labels and
        layout are rebuilt at the next refresh."""
        self.cmap = style.diverging_cmap()
        self._redraw_all()

    def refresh(self) -> bool:
        st = self.state
        if st.params is None or st.dataset is None:
            return False
        if self._drawn == st.version:
            return False
        self._drawn = st.version
        W1 = st.params["W1"]
        d = st.dataset
        linear = len(st.params) == 2
        D, K = W1.shape
        rgb = self.rgb_box.isChecked()
        if linear:
            names = list(d.class_names)
            cap = ("Linear classifier: each picture is one class's template — column k of W1 (the lecture's row k of W) "
                   "reshaped to the image. Blue = negative weight, red = positive.")
        else:
            K = min(K, MAX_UNITS)
            names = [str(k + 1) for k in range(K)]
            cap = (f"First layer of the MLP: the weights into {min(W1.shape[1], MAX_UNITS)} of its "
                   f"{W1.shape[1]} hidden units (numbered), each reshaped to the image.")
        image = len(tuple(d.input_shape)) == 3 and int(np.prod(d.input_shape)) == D
        self._offer_ranking(d, not linear and image)
        c = self.rank.currentIndex() - 1
        units = np.arange(K)
        if not linear and image and 0 <= c < d.num_classes:
            units, w, exact = rank_units(st.params, c, K)
            names = [str(j + 1) for j in units]
            into = "W2[j, class]" if exact else "the path through the later layers (activations ignored)"
            cap = (f"First-layer units ranked by their weight into the score of “{d.class_names[c]}” "
                   f"({into}; largest first: unit {units[0] + 1} {w[0]:+.3g}). Several templates per class, "
                   "mostly not interpretable — the network mixes them.")
        imgs, m = template_images(W1[:, units], d.input_shape, rgb)
        heat = imgs is None
        if heat:
            cap = ("2-D data: W1 has one row per input feature (x₁, x₂) and one column per "
                   + ("class" if linear else "hidden unit") + "; blue negative, red positive.")
        key = (heat, K, D, tuple(d.input_shape), rgb)
        if key != self._key:
            self._build(key, K, names, heat, slide=linear)
            self._key = key
        elif self.grid is not None:
            for i, name in enumerate(names):
                self.grid.set_label(i, name)        # (the ranking may change while it trains)
        self.caption.setText(cap)
        if heat:
            p, img = self.heat
            arr = np.ascontiguousarray(W1[:, :K], dtype=np.float32)
            mm = float(np.nanmax(np.abs(arr))) if arr.size else 1.0
            mm = mm if mm > 0 and math.isfinite(mm) else 1.0
            # the colour scale moves only when the weights outgrow it or shrink well inside it:
            # rescaling the bar and its axis on every frame is a large part of a redraw
            if not self._levels / 2 < mm <= self._levels:
                self._levels = mm * 1.25
                self.bar.setLevels((-self._levels, self._levels))
            img.setImage(arr, levels=(-self._levels, self._levels), autoLevels=False)
            if self._ticks_key != key:
                self._ticks_key = key
                p.getAxis("left").setTicks([[(i + 0.5, f"x{i + 1}") for i in range(D)]])
                every = max(1, K // 12)
                p.getAxis("bottom").setTicks([[(k + 0.5, names[k] if linear else str(k + 1))
                                               for k in range(0, K, every)]])
            return True
        colour = imgs.ndim == 4
        lut = None if colour else self.cmap.getLookupTable(nPts=256)
        if colour:
            # 8-bit RGB, all templates in one NumPy operation: pyqtgraph then draws each without
            # rescaling it (the float path costs several times as much, for every tile every frame)
            imgs = np.clip(np.nan_to_num(imgs, nan=0.5) * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
        # Many units while training runs: a quarter of the pictures each frame, in turn (each
        # still changes several times a second, and all of them in every frame would cost most of it)
        groups = 4 if len(self.items) > 16 and st.snap is not None and st.snap.running else 1
        self._turn = (getattr(self, "_turn", 0) + 1) % groups
        for k, item in enumerate(self.items):
            if k % groups != self._turn and item.image is not None:
                continue
            if colour:
                item.setImage(imgs[k], levels=None, autoLevels=False)
            else:
                item.setLookupTable(lut)
                item.setImage(imgs[k], levels=(-m, m), autoLevels=False)
            if item.image.shape[:2] != getattr(item, "fitted", None):
                item.setRect(UNIT)      # (only when the shape changes: a new transform re-indexes the scene)
                item.fitted = item.image.shape[:2]
        return True

    def _offer_ranking(self, d, show: bool) -> None:
        """The class chooser: shown for an MLP on images, listing the dataset's classes."""
        self.rank_label.setVisible(show)
        self.rank.setVisible(show)
        names = tuple(d.class_names)
        if show and names != self._rank_names:
            self._rank_names = names
            self.rank.blockSignals(True)
            self.rank.clear()
            self.rank.addItems(["(in order)", *names])
            self.rank.blockSignals(False)

    def export_item(self):
        return self.glw.ci
