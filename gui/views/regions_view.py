"""Decision regions for 2-D data: the class with the highest score on a grid (shaded by its
probability), training points and test points drawn on top in their class colours."""
from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout

from .. import style
from .base import View
from .caption import LiveCaption
from .loss_view import fit_legend, legend_above


LEVELS = 64      # shades of confidence per class colour
POINT_EDGE = "#0b0d10"   # the training points' outline: dark on the regions of either theme


def _palette(n_colours: int) -> np.ndarray:
    """``(n_colours · LEVELS, 4)`` uint8 RGBA: each class colour from unsure (near the background)
    to sure, in the current theme."""
    return _theme_palette(n_colours, style.THEME)


@functools.lru_cache(maxsize=8)
def _theme_palette(n_colours: int, theme: str) -> np.ndarray:
    """Dark theme: a dimmed class colour, darker when unsure.  Light theme: a pale tint of it,
    paler (nearer the white background) when unsure — full colours would bury the points."""
    colours = style.class_rgb(n_colours)
    a = np.linspace(0.0, 1.0, LEVELS, dtype=np.float32)[None, :, None]
    if theme == "light":
        bg = np.array([0.985, 0.985, 0.98], np.float32)
        sure = 1.0 - (1.0 - colours[:, None, :]) * 0.42
        rgb = bg + (sure - bg) * (0.2 + 0.8 * a)
    else:
        bg = np.array([0.08, 0.09, 0.11], np.float32)
        rgb = bg + (colours[:, None, :] * 0.55 - bg) * (0.25 + 0.75 * a)
    out = np.full((n_colours, LEVELS, 4), 255, dtype=np.uint8)
    out[..., :3] = np.clip(np.rint(rgb * 255.0), 0, 255)
    return out.reshape(-1, 4)


def row_max(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's largest value of ``(N, C)`` ``a`` and the column it is in.

    With a few columns (classes) it runs a pass per column over whole vectors: NumPy reduces
    along a short axis much more slowly, and this runs on every frame."""
    if a.shape[1] > 16:
        k = a.argmax(axis=1)
        return k, a[np.arange(len(a)), k]
    top = a[:, 0].copy()
    k = np.zeros(len(a), dtype=np.intp)
    for j in range(1, a.shape[1]):
        np.copyto(k, j, where=a[:, j] > top)
        np.maximum(top, a[:, j], out=top)
    return k, top


def region_image(probs: np.ndarray, n_classes: int) -> np.ndarray:
    """``(G, G, C)`` probabilities → ``(G, G, 4)`` uint8 RGBA (opaque): the most probable class's
    colour, darker when unsure (its probability 1/C, a guess, is darkest; 1 is full colour).

    One palette lookup per pixel: this runs on the GUI thread 30 times a second.  (Four bytes a
    pixel: Qt paints RGB888 images at twice the cost.)"""
    c = probs.shape[2]
    k, conf = row_max(probs.reshape(-1, c))
    level = np.clip((conf - 1.0 / c) * ((LEVELS - 1) / (1.0 - 1.0 / c)) + 0.5, 0, LEVELS - 1).astype(np.intp)
    pixels = _palette(max(n_classes, c)).view(np.uint32)[:, 0]    # one 4-byte word per colour
    return pixels[k * LEVELS + level].view(np.uint8).reshape(probs.shape[:2] + (4,))


def regions_unavailable(d) -> str:
    """Why a dataset has no decision regions to draw, and what to choose instead."""
    from engine.datasets.registry import dataset_info, dataset_names
    toys = dataset_names("toy")
    info = dataset_info(d.name)
    if info is not None and info.is_toy and d.num_features == 3:
        return (f"Decision regions are drawn in the plane of the two inputs; with the bias trick {d.name} "
                "has a third, constant input.\nTurn the bias trick off in the Dataset panel to see them.")
    return (f"Decision regions need 2-D data; {d.name} has {d.num_features:,} features.\n"
            f"Choose {', '.join(toys[:-1])} or {toys[-1]} in the Dataset panel.")


class DecisionRegionsView(View):
    title = "Decision regions"
    shows_regions = True

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._drawn = -1
        self._grid_drawn = -1
        self._points_for = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.caption = LiveCaption("")    # (its text changes every frame)
        self.test_box = QCheckBox("show test points")
        self.test_box.setChecked(True)
        self.test_box.toggled.connect(lambda on: self.test_pts.setVisible(on))
        top.addWidget(self.caption, 1)
        top.addWidget(self.test_box)
        lay.addLayout(top)
        # the legend in a row above the plot: over the plot it covered points and regions
        self.pw = style.live_view(pg.GraphicsLayoutWidget())
        lay.addWidget(self.pw, 1)
        self.plot = self.pw.addPlot(row=1, col=0)
        style.style_plot(self.plot, "", "x₂", "x₁")
        self.plot.setAspectLocked(True)
        self.img = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.img)
        self.train_pts = pg.ScatterPlotItem(size=style.line_px(3.3), pen=pg.mkPen(POINT_EDGE, width=1.2))
        # test points: hollow-looking triangles ringed in the theme's text colour (white on the
        # dark regions, near-black on the pale ones of the light theme)
        self.test_pts = pg.ScatterPlotItem(size=style.line_px(3.6), symbol="t",
                                           pen=pg.mkPen(style.FG, width=1.5))
        for pts in (self.train_pts, self.test_pts):
            # the points stay put while the regions under them change 30 times a second: blit
            # them from a pixmap Qt renews when they or the view change
            style.cache_static(pts)
            self.plot.addItem(pts)
        self.legend = legend_above(self.pw, self.plot, row=0)
        self.pw.installEventFilter(self)
        self.message = pg.TextItem("", color=style.FG, anchor=(0.5, 0.5))
        self.plot.addItem(self.message)

    def _draw_points(self, d) -> None:
        cols = [pg.mkBrush(style.class_color(k)) for k in range(d.num_classes)]
        self.train_pts.setData(pos=d.X_train, brush=[cols[k] for k in d.y_train])
        self.test_pts.setData(pos=d.X_test, brush=[cols[k] for k in d.y_test])
        self.legend.clear()
        for k, name in enumerate(d.class_names):
            s = pg.ScatterPlotItem(size=12, brush=cols[k], pen=None)
            self.legend.addItem(s, name)
        s = pg.ScatterPlotItem(size=12, symbol="t", brush=pg.mkBrush(0, 0, 0, 0), pen=pg.mkPen(style.FG, width=1.5))
        self.legend.addItem(s, "test point")
        fit_legend(self.legend, self.pw.width() - 20)
        style.cache_static(self.legend)
        self._points_for = d

    def refresh(self) -> bool:
        st = self.state
        d = st.dataset
        if d is None or self._drawn == st.version:
            return False
        self._drawn = st.version
        if not d.is_2d:
            self.caption.setText("")
            self.train_pts.clear()
            self.test_pts.clear()
            self.img.clear()
            self.legend.clear()
            self._points_for = None
            self.message.setText(regions_unavailable(d))
            self.message.setPos(0, 0)
            self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1))
            return True
        if self.message.toPlainText():
            self.message.setText("")     # (setting it every frame would repaint the whole plot)
        drew = False                     # True when the plot itself changed (a frame was drawn)
        if self._points_for is not d:
            self._draw_points(d)
            drew = True
        snap = st.snap
        if snap is None or st.grid is None:
            return drew
        if self._grid_drawn != st.grid_version:
            self._grid_drawn = st.grid_version
            self.img.setImage(region_image(st.grid, d.num_classes), levels=(0, 255), autoLevels=False)
            x0, x1, y0, y1 = st.grid_extent
            self.img.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            drew = True
        acc = ""
        if len(st.history["val_acc"]):
            acc = f" · validation accuracy {st.history['val_acc'][-1]:.1%}"
        self.caption.setText(f"Step {snap.step:,}{acc} · each region is the class with the highest "
                             "score; " + ("brighter" if style.THEME == "dark" else "stronger colour")
                             + " = more confident")
        return drew

    def restyle(self) -> None:
        """A new font scale or theme: axes, legend text and the message in the current look."""
        style.style_plot(self.plot, "", "x₂", "x₁")
        size = f"{style.font_pt(-1):.0f}pt"
        self.legend.setLabelTextSize(size)
        for _, label in self.legend.items:       # (size and colour apply to new text only)
            label.setText(getattr(label, "full_text", label.text), size=size, color=style.FG)
        self.message.setColor(style.FG)
        self.train_pts.setSize(style.line_px(3.3))
        self.test_pts.setSize(style.line_px(3.6))
        self.test_pts.setPen(pg.mkPen(style.FG, width=1.5))
        fit_legend(self.legend, self.pw.width() - 20)
        # drawn again at the next refresh: the points and the legend's swatches in the theme's
        # class colours, the regions in its shading
        self._points_for = None
        self._grid_drawn = -1
        self._drawn = -1

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Resize:
            fit_legend(self.legend, self.pw.width() - 20)
        return False

    def export_item(self):
        """The plot with its legend."""
        return self.pw.ci
