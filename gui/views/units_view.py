"""Every hidden unit over the input plane, as TensorFlow Playground draws them: for 2-D data, one
small map per unit of each hidden layer (its activation at every point of the plane), layer by
layer, live while training.  Hover a map for the unit's incoming weights.

The maps come from the model's own forward (``Network.hidden_activations`` on a private copy of
the network with the newest snapshot's weights) on a coarse grid, once a frame; while
training runs with many units a quarter of the maps is redrawn each frame, in turn
(``benchmarks/bench_gui.py --views units,regions`` measures what it costs the run).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from engine.models import Network

from .. import style
from ..scorers import grid_extent, grid_points
from .base import View
from .tiles import TileGrid

MAP_SIZE = 32           # grid points per side of a unit's map
MAX_SHOWN = 64          # units drawn per layer (the first ones)
INTERVAL = 0.025        # seconds between two computations of the maps: every frame of the window's 30 ms timer


def unit_maps(net: Network, params: dict, pts: np.ndarray, n: int) -> list[np.ndarray]:
    """Each hidden layer's activations over the grid ``pts`` (``n × n`` points, row = y from the
    bottom), as ``(units, n, n)`` images with row 0 at the top (the plane as it is drawn)."""
    for k, v in params.items():
        np.copyto(net.params[k], v)
    out = []
    for a in net.hidden_activations(pts):
        maps = a.T.reshape(a.shape[1], n, n)[:, ::-1, :]
        out.append(np.ascontiguousarray(maps, dtype=np.float32))
    return out


class HiddenUnitsView(View):
    title = "Hidden units"     # (it reads the dataset and the weights from the window's ViewState)

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._key = None
        self._drawn = -1
        self._last = 0.0
        self._turn = 0
        self._net: Network | None = None
        self._pts = None
        self._extent = None
        self.maps: list[np.ndarray] = []
        lay = QVBoxLayout(self)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        self.hover = QLabel("Hover over a map to read the unit's incoming weights.")
        self.hover.setObjectName("muted")
        lay.addWidget(self.hover)
        self.glw = style.live_view(pg.GraphicsLayoutWidget())
        lay.addWidget(self.glw, 1)
        self.cmap = style.diverging_cmap()
        self.layers: list[tuple[TileGrid, list[pg.ImageItem]]] = []
        self.glw.scene().sigMouseMoved.connect(self._hovered)

    def invalidate(self) -> None:
        self._drawn = -1
        self._key = None

    def restyle(self) -> None:
        self.cmap = style.diverging_cmap()
        self.invalidate()

    def _build(self, sizes: list[int], activations: list[str]) -> None:
        self.glw.clear()
        self.layers = []
        for li, (h, act) in enumerate(zip(sizes, activations)):
            shown = min(h, MAX_SHOWN)
            self.glw.addLabel(f"layer {li + 1}: {h} units ({act})" + (f", the first {shown} shown" if shown < h else ""),
                              row=2 * li, col=0, size=f"{style.font_pt(1):.1f}pt", color=style.FG)
            vb = self.glw.addViewBox(row=2 * li + 1, col=0, enableMouse=False)
            grid = TileGrid(vb, shown, font_extra=-2.0)
            items = []
            for j in range(shown):
                img = pg.ImageItem(axisOrder="row-major")
                img.setParentItem(grid.groups[j])
                img.setLookupTable(self.cmap.getLookupTable(nPts=256))
                items.append(img)
                grid.set_label(j, str(j + 1))
            self.layers.append((grid, items))

    def refresh(self) -> bool:
        st = self.state
        d, params, mc = st.dataset, st.params, st.model_cfg
        if d is None or params is None or mc is None or self._drawn == st.version:
            return False
        if not d.is_2d or not mc.hidden:
            self._drawn = st.version
            if self.layers or self._key != "none":
                self.glw.clear()
                self.layers, self._key = [], "none"
            self.caption.setText("Hidden-unit maps need 2-D data and a network with hidden layers: choose a toy set "
                                 "and an MLP (Architecture panel)." if not d.is_2d else
                                 "A linear classifier has no hidden units: add a layer in the Architecture panel.")
            return True
        now = time.monotonic()
        running = st.snap is not None and st.snap.running
        if running and now - self._last < INTERVAL:
            return False
        self._last, self._drawn = now, st.version
        key = (id(d), tuple(mc.hidden), tuple(mc.activations), mc.leaky_slope, mc.elu_alpha)
        if key != self._key:
            self._net = Network(d.num_features, d.num_classes, mc, st.loss_cfg)
            self._extent = grid_extent(d.X_train)
            self._pts = grid_points(self._extent, MAP_SIZE)
            self._build(list(mc.hidden), list(mc.activations))
            self._key = key
            self.caption.setText("Each map is one hidden unit's activation over the input plane (x₁ across, x₂ up; "
                                 "the data's range): red positive, blue negative, the colours scaled per unit. "
                                 "The layers combine these pieces into the decision regions.")
        self.maps = unit_maps(self._net, params, self._pts, MAP_SIZE)
        lut = self.cmap.getLookupTable(nPts=256)
        total = sum(len(items) for _g, items in self.layers)
        groups = 4 if running and total > 32 else 1
        self._turn = (self._turn + 1) % groups
        k = 0
        for maps, (_grid, items) in zip(self.maps, self.layers):
            for j, img in enumerate(items):
                k += 1
                if k % groups != self._turn and img.image is not None:
                    continue
                m = maps[j]
                bound = float(np.max(np.abs(m))) or 1.0
                img.setLookupTable(lut)
                img.setImage(m, levels=(-bound, bound), autoLevels=False)
                if img.data(0) != m.shape:      # (a new shape: fit the map to its tile once)
                    img.setRect(0, 0, 1, 1)
                    img.setData(0, m.shape)
        return True

    def unit_at(self, scene_pos) -> tuple[int, int] | None:
        """(layer, unit) of the map under a scene position, or None."""
        for li, (grid, _items) in enumerate(self.layers):
            p = grid.vb.mapSceneToView(scene_pos)
            for j, r in enumerate(grid.rects[:grid.shown]):
                if r.contains(p):
                    return li, j
        return None

    def incoming(self, layer: int, unit: int) -> str:
        """The unit's incoming weights and bias, as the hover line shows them."""
        params = self.state.params
        if params is None:
            return ""
        w = params[f"W{layer + 1}"][:, unit]
        b = float(params[f"b{layer + 1}"][unit])
        shown = ", ".join(f"{v:+.3g}" for v in w[:8]) + (", …" if len(w) > 8 else "")
        src = "x₁, x₂" if layer == 0 else f"the {len(w)} units of layer {layer}"
        return f"layer {layer + 1}, unit {unit + 1}: weights from {src} = [{shown}], bias {b:+.3g}"

    def _hovered(self, scene_pos) -> None:
        hit = self.unit_at(scene_pos)
        if hit is not None:
            self.hover.setText(self.incoming(*hit))

    def export_item(self):
        return self.glw.ci
