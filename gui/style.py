"""Look and feel: a high-contrast theme (dark, or light for bright rooms) readable on a projector,
class colours, scaling.

Everything that draws reads its sizes from :data:`SCALE` through :func:`font_pt` and
:func:`line_px`, and its colours from the current theme (:data:`BG`, :data:`FG`, :func:`color`),
so Ctrl+= / Ctrl+- grows every font and line together and View > Theme recolours every tab.

:func:`set_scale` / :func:`set_theme` change the values; :func:`apply` hands them to Qt and
pyqtgraph and emits :func:`notifier`'s ``changed`` signal, which anything drawn with fixed sizes or
colours connects to (the labs' plots through ``gui.labs.common``, the backprop view).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont, QPalette

BASE_FONT_PT = 12
BASE_LINE_PX = 3
#: the drawn text of the backprop graph and its exports (the widgets use the application's font)
GRAPH_FONT = "DejaVu Sans"
MONO_FONT = "DejaVu Sans Mono, monospace"
#: the backprop graph's text sizes, pixels at scale 1 (a node's name, a caption, a value, a fan-out sum)
GRAPH_PX = {"node": 24, "caption": 16, "value": 20, "sum": 19}
#: a Backprop frame exported as a picture: its title and headline, pixels
EXPORT_TITLE_PX, EXPORT_HEADLINE_PX = 26, 22
MIN_SCALE, MAX_SCALE = 0.6, 3.0
#: the labs' plots and text: a step above the window's, read from the back of a room
LAB_FONT_PT = BASE_FONT_PT + 1
#: the labs' series colours, readable on a projector in both themes (mid-luminance: they keep
#: their contrast on the dark and on the light background; colour-blind friendly-ish)
SERIES_COLORS = ("#2f8fdd", "#e5484d", "#30a46c", "#e8900c", "#9d6bd8", "#a0694f", "#e06bbd",
                 "#14b8c8", "#b5b82a", "#8a8f98")

#: every colour of a theme; module constants (BG, FG, ...) and :func:`color` read the current one
THEMES = {
    "dark": {
        "bg": "#15181e", "panel": "#1e222a", "fg": "#e8eaed", "muted": "#9aa0a6", "accent": "#4fc3f7",
        "separator": "#2b3039", "title_bg": "#262b34", "border": "#333a45", "button": "#2b313c",
        "button_border": "#3d4553", "hover": "#353d4a", "primary": "#1f6f99", "primary_fg": "#ffffff",
        "disabled": "#5f6670", "checked": "#a6501f", "checked_border": "#ff8a65", "input": "#252a33",
        "list": "#1b1f26", "menu": "#232830", "warning": "#ffb74d", "error": "#ef5350",
        "slip_fg": "#ffcc80", "slip_bg": "#3a2a17",
        # the backprop graph
        "graph_bg": "#15181e", "graph_text": "#f1f3f4", "graph_caption": "#aab2bb", "edge": "#77828f",
        "fwd": "#5fd17f", "bwd": "#ff6b6b", "active": "#f5b301", "active_fill": "#4a3f12",
        "pill": "#20252d", "pill_highlight": "#3b3313",
        "fill_op": "#27303d", "fill_input": "#173349", "fill_param": "#3d2a12", "fill_const": "#2c2f33",
        "border_op": "#8fa3bb", "border_input": "#4fa3e0", "border_param": "#e09a3a", "border_const": "#8a8f96",
    },
    "light": {
        "bg": "#fbfbfa", "panel": "#ffffff", "fg": "#111418", "muted": "#5a6068", "accent": "#0b62a4",
        "separator": "#d2d6dc", "title_bg": "#e7eaef", "border": "#c3c8d0", "button": "#eef1f5",
        "button_border": "#aeb6c1", "hover": "#e0e6ee", "primary": "#1f6f99", "primary_fg": "#ffffff",
        "disabled": "#9aa0a8", "checked": "#c2561c", "checked_border": "#8a3a10", "input": "#ffffff",
        "list": "#ffffff", "menu": "#ffffff", "warning": "#a85400", "error": "#c62828",
        "slip_fg": "#8a4300", "slip_bg": "#fff3e0",
        "graph_bg": "#ffffff", "graph_text": "#17202a", "graph_caption": "#4a5560", "edge": "#5f6b7a",
        "fwd": "#1b7f3b", "bwd": "#c62828", "active": "#e0a000", "active_fill": "#fff4c2",
        "pill": "#ffffff", "pill_highlight": "#fff8d6",
        "fill_op": "#e8eef7", "fill_input": "#dcefff", "fill_param": "#ffe9cc", "fill_const": "#eeeeee",
        "border_op": "#34495e", "border_input": "#1f6fb2", "border_param": "#c77700", "border_const": "#888888",
    },
}
#: class and curve colours per theme (the light theme's are darker: pale yellow vanishes on white)
_CLASS_COLORS = {
    "dark": ["#4fc3f7", "#ff8a65", "#81c784", "#ffd54f", "#ba68c8",
             "#f06292", "#4db6ac", "#e0e0e0", "#9575cd", "#aed581"],
    "light": ["#0277bd", "#e64a19", "#2e7d32", "#c79100", "#8e24aa",
              "#d81b60", "#00897b", "#546e7a", "#5e35b1", "#689f38"],
}
_CURVE = {
    "dark": {"loss": "#4fc3f7", "data": "#ffd54f", "reg": "#ba68c8",
             "train": "#81c784", "val": "#ff8a65", "lr": "#9aa0a6"},
    "light": {"loss": "#0277bd", "data": "#b07f00", "reg": "#8e24aa",
              "train": "#2e7d32", "val": "#e64a19", "lr": "#5a6068"},
}

THEME = "dark"
SCALE = 1.0

# The current theme's main colours (rebound by set_theme: read them as ``style.BG``, not imported).
BG = THEMES[THEME]["bg"]
PANEL = THEMES[THEME]["panel"]
FG = THEMES[THEME]["fg"]
MUTED = THEMES[THEME]["muted"]
ACCENT = THEMES[THEME]["accent"]
# Okabe–Ito-like palette, readable for colour-blind viewers and on a projector (changed in place
# by set_theme, so a reference to the list stays current).
CLASS_COLORS = list(_CLASS_COLORS[THEME])
CURVE = dict(_CURVE[THEME])


def color(name: str) -> str:
    """A colour of the current theme by its name in :data:`THEMES` ("bg", "fg", "edge", ...)."""
    return THEMES[THEME][name]


def set_theme(name: str) -> None:
    """Make ``name`` ("dark" or "light") the current theme; :func:`apply` shows it."""
    global THEME, BG, PANEL, FG, MUTED, ACCENT
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r} (one of {', '.join(THEMES)})")
    THEME = name
    t = THEMES[name]
    BG, PANEL, FG, MUTED, ACCENT = t["bg"], t["panel"], t["fg"], t["muted"], t["accent"]
    CLASS_COLORS[:] = _CLASS_COLORS[name]
    CURVE.clear()
    CURVE.update(_CURVE[name])


def set_scale(scale: float) -> float:
    """Set :data:`SCALE` (clamped to [0.6, 3]); :func:`apply` shows it. Returns the new scale."""
    global SCALE
    SCALE = max(MIN_SCALE, min(MAX_SCALE, float(scale)))
    return SCALE


class _Notifier(QObject):
    changed = Signal()   # the theme or the scale changed: restyle what was drawn with fixed values


_notifier: _Notifier | None = None


def notifier() -> _Notifier:
    """The application-wide object whose ``changed`` signal follows every :func:`apply`."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def palette() -> QPalette:
    """The current theme as a QPalette (widgets the style sheet does not reach, text browsers)."""
    t = THEMES[THEME]
    p = QPalette()
    for role, key in ((QPalette.Window, "bg"), (QPalette.WindowText, "fg"), (QPalette.Base, "input"),
                      (QPalette.AlternateBase, "panel"), (QPalette.Text, "fg"), (QPalette.Button, "button"),
                      (QPalette.ButtonText, "fg"), (QPalette.ToolTipBase, "title_bg"),
                      (QPalette.ToolTipText, "fg"), (QPalette.Highlight, "primary"),
                      (QPalette.HighlightedText, "primary_fg"), (QPalette.Link, "accent"),
                      (QPalette.PlaceholderText, "muted"), (QPalette.BrightText, "warning")):
        p.setColor(role, QColor(t[key]))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(t["disabled"]))
    return p


def apply(app=None, notify: bool = True) -> None:
    """Hand the current theme and scale to pyqtgraph (new plots) and ``app`` (font, palette, style
    sheet: only what changed, re-polishing every widget is slow), then emit ``notifier().changed``."""
    configure_pyqtgraph()
    if app is None:
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance()
    if app is not None:
        f = QFont(app.font())
        f.setPointSizeF(font_pt())
        if app.font().pointSizeF() != f.pointSizeF():
            app.setFont(f)
        pal = palette()
        if app.palette().color(QPalette.Window) != pal.color(QPalette.Window):
            app.setPalette(pal)
        sheet = stylesheet()
        if app.styleSheet() != sheet:
            app.setStyleSheet(sheet)
    if notify:
        notifier().changed.emit()


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
    mid = [24, 26, 32] if THEME == "dark" else [247, 247, 247]   # zero = the background
    col = np.array([[33, 102, 172], [103, 169, 207], mid, [239, 138, 98], [178, 24, 43]], np.ubyte)
    return pg.ColorMap(pos, col)


def sequential_cmap() -> pg.ColorMap:
    pos = np.array([0.0, 0.5, 1.0])
    if THEME == "dark":
        col = np.array([[24, 26, 32], [30, 110, 160], [120, 220, 255]], np.ubyte)
    else:
        col = np.array([[250, 250, 250], [120, 180, 225], [8, 69, 148]], np.ubyte)
    return pg.ColorMap(pos, col)


def _arrow(direction: str, colour: str) -> str:
    """A small triangle (SVG file in a per-user temporary folder) for the style sheet's spin box
    and combo box arrows: Qt draws none once their buttons are styled."""
    import os
    import tempfile
    from pathlib import Path
    folder = Path(tempfile.gettempdir()) / f"backprop-studio-{os.getuid() if hasattr(os, 'getuid') else 0}"
    path = folder / f"{direction}-{colour.lstrip('#')}.svg"
    if not path.exists():
        pts = "0,6 5,0 10,6" if direction == "up" else "0,0 10,0 5,6"
        try:
            folder.mkdir(exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="6">'
                           f'<polygon points="{pts}" fill="{colour}"/></svg>')
            os.replace(tmp, path)
        except OSError:      # no arrows rather than no window
            return ""
    return path.as_posix()


def stylesheet() -> str:
    pt = font_pt()
    t = dict(THEMES[THEME], pt=f"{pt:.1f}", up=_arrow("up", THEMES[THEME]["muted"]),
             down=_arrow("down", THEMES[THEME]["muted"]))
    sheet = """
    QWidget {{ background: {bg}; color: {fg}; font-size: {pt}pt; }}
    QMainWindow::separator {{ background: {separator}; width: 4px; height: 4px; }}
    QDockWidget {{ font-weight: bold; }}
    QDockWidget::title {{ background: {title_bg}; padding: 6px; }}
    QGroupBox {{ border: 1px solid {border}; border-radius: 6px; margin-top: 1.2em; padding: 6px; }}
    QGroupBox::title {{ subcontrol-origin: margin; left: 8px; color: {accent}; }}
    QPushButton, QToolButton {{ background: {button}; border: 1px solid {button_border}; border-radius: 5px;
        padding: 5px 12px; }}
    QPushButton:hover, QToolButton:hover {{ background: {hover}; }}
    QPushButton:pressed, QToolButton:pressed {{ background: {primary}; color: {primary_fg}; }}
    QPushButton:disabled, QToolButton:disabled {{ color: {disabled}; }}
    QPushButton#primary {{ background: {primary}; color: {primary_fg}; border-color: {accent}; font-weight: bold; }}
    QPushButton#primary:checked {{ background: {checked}; border-color: {checked_border}; }}
    QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: {input}; border: 1px solid {button_border};
        border-radius: 4px; padding: 3px 6px; selection-background-color: {primary};
        selection-color: {primary_fg}; }}
    QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ background: {button}; border: none;
        width: 16px; }}
    QAbstractSpinBox::up-arrow {{ image: url({up}); width: 10px; height: 6px; }}
    QAbstractSpinBox::down-arrow, QComboBox::down-arrow {{ image: url({down}); width: 10px; height: 6px; }}
    QComboBox::drop-down {{ border: none; width: 18px; }}
    QCheckBox::indicator, QGroupBox::indicator {{ width: 14px; height: 14px; border: 1px solid {muted};
        border-radius: 3px; background: {input}; }}
    QCheckBox::indicator:checked, QGroupBox::indicator:checked {{ background: {accent}; border-color: {accent}; }}
    QComboBox QAbstractItemView {{ background: {input}; selection-background-color: {primary};
        selection-color: {primary_fg}; }}
    QTabWidget::pane {{ border: 1px solid {separator}; }}
    QTabBar::tab {{ background: {panel}; padding: 8px 12px; border: 1px solid {separator}; }}
    QTabBar::tab:selected {{ background: {button}; color: {accent}; border-bottom: 3px solid {accent}; }}
    QProgressBar {{ border: 1px solid {button_border}; border-radius: 4px; text-align: center; background: {input}; }}
    QProgressBar::chunk {{ background: {primary}; }}
    QListWidget, QTableWidget, QTextBrowser {{ background: {list}; border: 1px solid {border}; }}
    QTableWidget {{ gridline-color: {border}; }}
    QHeaderView::section {{ background: {title_bg}; padding: 4px; border: none; }}
    QStatusBar {{ background: {list}; color: {muted}; }}
    QMenuBar {{ background: {list}; }}
    QMenuBar::item:selected, QMenu::item:selected {{ background: {primary}; color: {primary_fg}; }}
    QMenu {{ background: {menu}; border: 1px solid {button_border}; }}
    QToolTip {{ background: {title_bg}; color: {fg}; border: 1px solid {accent}; }}
    QSlider::groove:horizontal {{ height: 6px; background: {border}; border-radius: 3px; }}
    QSlider::handle:horizontal {{ background: {accent}; width: 16px; margin: -6px 0; border-radius: 8px; }}
    QLabel#formula {{ background: {list}; border: 1px solid {border}; border-radius: 6px; padding: 8px;
        font-family: 'DejaVu Serif', serif; }}
    QLabel#muted {{ color: {muted}; }}
    QLabel#warning {{ color: {warning}; }}
    QLabel#error {{ color: {error}; font-weight: bold; }}
    """.format(**t)
    # text a bit larger or smaller than the body (gui.labs.common.label(..., delta)): by a property,
    # so that it follows the scale with the rest of the sheet
    sheet += "".join(f"    QLabel[bs_delta=\"{d}\"] {{ font-size: {font_pt(d):.1f}pt; }}\n"
                     for d in range(-4, 7) if d)
    return sheet


def configure_pyqtgraph() -> None:
    """New pyqtgraph plots take the current theme's background and text colour."""
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
    of many rectangles, and every line drawn through it costs several times as much."""
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
