"""Look and feel: a high-contrast dark theme readable on a projector, class colours, scaling.

Everything that draws reads its sizes from :data:`SCALE` through :func:`font_pt` and
:func:`line_px`, so Ctrl+= / Ctrl+- grows every font and line together.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

BASE_FONT_PT = 12
BASE_LINE_PX = 3

BG = "#15181e"
PANEL = "#1e222a"
FG = "#e8eaed"
MUTED = "#9aa0a6"
ACCENT = "#4fc3f7"

# Okabe–Ito-like palette, readable for colour-blind viewers and on a projector.
CLASS_COLORS = ["#4fc3f7", "#ff8a65", "#81c784", "#ffd54f", "#ba68c8",
                "#f06292", "#4db6ac", "#e0e0e0", "#9575cd", "#aed581"]
CURVE = {"loss": "#4fc3f7", "data": "#ffd54f", "reg": "#ba68c8",
         "train": "#81c784", "val": "#ff8a65", "lr": "#9aa0a6"}

SCALE = 1.0


def class_color(k: int) -> str:
    if k < len(CLASS_COLORS):
        return CLASS_COLORS[k]
    c = QColor.fromHsvF((k * 0.618034) % 1.0, 0.55, 0.95)
    return c.name()


def class_rgb(n: int) -> np.ndarray:
    """``(n, 3)`` float32 RGB in [0, 1] for the first n classes."""
    return np.array([QColor(class_color(k)).getRgbF()[:3] for k in range(n)], np.float32)


def font_pt(extra: float = 0.0) -> float:
    return (BASE_FONT_PT + extra) * SCALE


def line_px(factor: float = 1.0) -> float:
    return BASE_LINE_PX * SCALE * factor


def pen(color: str, factor: float = 1.0, style=None):
    """factor 0 = a cosmetic 1-pixel line (the fast path for long, noisy curves)."""
    p = pg.mkPen(color, width=line_px(factor) if factor > 0 else 1)
    if style is not None:
        p.setStyle(style)
    return p


def diverging_cmap() -> pg.ColorMap:
    """Blue (negative) – near-black (zero) – orange/red (positive): symmetric weights read at a glance."""
    pos = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    col = np.array([[33, 102, 172], [103, 169, 207], [24, 26, 32], [239, 138, 98], [178, 24, 43]], np.ubyte)
    return pg.ColorMap(pos, col)


def sequential_cmap() -> pg.ColorMap:
    pos = np.array([0.0, 0.5, 1.0])
    col = np.array([[24, 26, 32], [30, 110, 160], [120, 220, 255]], np.ubyte)
    return pg.ColorMap(pos, col)


def stylesheet() -> str:
    pt = font_pt()
    return f"""
    QWidget {{ background: {BG}; color: {FG}; font-size: {pt:.1f}pt; }}
    QMainWindow::separator {{ background: #2b3039; width: 4px; height: 4px; }}
    QDockWidget {{ font-weight: bold; }}
    QDockWidget::title {{ background: #262b34; padding: 6px; }}
    QGroupBox {{ border: 1px solid #333a45; border-radius: 6px; margin-top: 1.2em; padding: 6px; }}
    QGroupBox::title {{ subcontrol-origin: margin; left: 8px; color: {ACCENT}; }}
    QPushButton {{ background: #2b313c; border: 1px solid #3d4553; border-radius: 5px; padding: 5px 12px; }}
    QPushButton:hover {{ background: #353d4a; }}
    QPushButton:pressed {{ background: #1f6f99; }}
    QPushButton:disabled {{ color: #5f6670; }}
    QPushButton#primary {{ background: #1f6f99; border-color: #4fc3f7; font-weight: bold; }}
    QPushButton#primary:checked {{ background: #a6501f; border-color: #ff8a65; }}
    QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: #252a33; border: 1px solid #3d4553;
        border-radius: 4px; padding: 3px 6px; selection-background-color: #1f6f99; }}
    QComboBox QAbstractItemView {{ background: #252a33; selection-background-color: #1f6f99; }}
    QTabWidget::pane {{ border: 1px solid #2b3039; }}
    QTabBar::tab {{ background: #1e222a; padding: 8px 18px; border: 1px solid #2b3039; }}
    QTabBar::tab:selected {{ background: #2b313c; color: {ACCENT}; border-bottom: 3px solid {ACCENT}; }}
    QProgressBar {{ border: 1px solid #3d4553; border-radius: 4px; text-align: center; background: #252a33; }}
    QProgressBar::chunk {{ background: #1f6f99; }}
    QListWidget, QTableWidget {{ background: #1b1f26; border: 1px solid #333a45; }}
    QHeaderView::section {{ background: #262b34; padding: 4px; border: none; }}
    QStatusBar {{ background: #1b1f26; color: {MUTED}; }}
    QMenuBar {{ background: #1b1f26; }}
    QMenuBar::item:selected, QMenu::item:selected {{ background: #1f6f99; }}
    QMenu {{ background: #232830; border: 1px solid #3d4553; }}
    QToolTip {{ background: #262b34; color: {FG}; border: 1px solid {ACCENT}; }}
    QSlider::groove:horizontal {{ height: 6px; background: #333a45; border-radius: 3px; }}
    QSlider::handle:horizontal {{ background: {ACCENT}; width: 16px; margin: -6px 0; border-radius: 8px; }}
    QLabel#formula {{ background: #1b1f26; border: 1px solid #333a45; border-radius: 6px; padding: 8px;
        font-family: 'DejaVu Serif', serif; }}
    QLabel#muted {{ color: {MUTED}; }}
    QLabel#warning {{ color: #ffb74d; }}
    """


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=False, background=BG, foreground=FG, imageAxisOrder="row-major")


def style_plot(plot: pg.PlotItem, title: str = "", left: str = "", bottom: str = "") -> None:
    """Large axis fonts and labels for a PlotItem."""
    f = QFont()
    f.setPointSizeF(font_pt(-1))
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setTickFont(f)
        ax.setPen(pg.mkPen(MUTED, width=max(1.0, line_px(0.4))))
        ax.setTextPen(pg.mkPen(FG))
    cache_static_parts(plot)
    if title:
        plot.setTitle(title, color=FG, size=f"{font_pt(2):.0f}pt")
    style = {"color": FG, "font-size": f"{font_pt():.0f}pt"}
    if left:
        plot.setLabel("left", left, **style)
    if bottom:
        plot.setLabel("bottom", bottom, **style)
    plot.showGrid(x=False, y=False)  # live plots: grids are repainted every frame (costly)


def live_view(view: pg.GraphicsView) -> pg.GraphicsView:
    """A plot widget redrawn 30 times a second.

    Its background is one flat colour, which Qt fills faster than it copies pyqtgraph's cached
    background pixmap.  And it repaints one rectangle around everything that changed: the
    default (the exact union of the changed items' rectangles) leaves the painter a clip region
    of many rectangles, and every line drawn through it costs three times as much (~0.9 against
    ~0.3 ms per curve here)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QGraphicsView
    view.setCacheMode(QGraphicsView.CacheNone)
    view.setViewportUpdateMode(QGraphicsView.BoundingRectViewportUpdate)
    # It fills every pixel it repaints, so Qt need not paint the widgets behind it first (the tab
    # page, the tab widget's frame, the window) under each frame's changed strip.
    view.viewport().setAttribute(Qt.WA_OpaquePaintEvent)
    return view


def cache_static(item) -> None:
    """Paint ``item`` and everything inside it from pixmaps Qt keeps (and renews whenever a part
    changes).  A cache holds only its own item's painting, not its children's: a legend's or a
    title's text is a child text item, which otherwise lays out and draws its glyphs again on
    every frame that repaints the area under it."""
    from PySide6.QtWidgets import QGraphicsItem
    item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
    for child in item.childItems():
        cache_static(child)


def cache_static_parts(plot: pg.PlotItem) -> None:
    """Axes, title and legend rarely change: let Qt blit them from a pixmap instead of calling
    their Python paint() on every frame (the live plots repaint 30 times a second)."""
    for name in ("left", "bottom", "right", "top"):
        cache_static(plot.getAxis(name))
    if plot.titleLabel is not None:
        cache_static(plot.titleLabel)
