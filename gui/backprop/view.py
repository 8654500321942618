"""BackpropView: the animated computational-graph view (a tab, or its own window).

Three modes:

* **Walkthrough** — the lecture's built-in walkthroughs (``resources/walkthroughs/*.json``) or
  any walkthrough file (:meth:`BackpropView.open_walkthrough`).
* **Custom** — type an expression and values (``x=-2, y=5``); errors appear inline in red.
* **Network** — the main window's model at layer granularity on one minibatch of the loaded
  data (:meth:`set_model`, :meth:`set_dataset`); click an edge or node for a heat map.

Every number shown comes from the engine's recorded trace (``engine.graph.Trace``); the view
only formats.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDoubleSpinBox, QFileDialog,
                               QGraphicsView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QSlider, QSplitter, QStackedWidget, QStyle, QTableWidget, QTableWidgetItem,
                               QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from engine.expr import ExpressionError
from engine.graph import OPS
from engine.practice import Question, Score, check, expected, hint
from engine.walkthroughs import (BUILTIN_DIR, Frame, GradCheckRow, Walkthrough, WalkthroughError, build_frames, fmt,
                                 graph_gradient_check, load_builtin_walkthroughs, load_walkthrough,
                                 narrate, walkthrough_from_expression)

from .. import style
from ..export import export_painting
from ..views.base import View
from .graph_scene import GraphScene, GraphSpec, col

MINIBATCH = 32
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)
# The layered layout's time grows steeply with long fan-out edges (x + x + … + x: doubling the
# nodes multiplies it several times over), so larger graphs are refused, not drawn.
MAX_DRAWN_NODES = 150


class TooLargeToDraw(ValueError):
    """The graph has more nodes than the view lays out quickly."""


class GraphView(QGraphicsView):
    """Zoom-to-fit graphics view; the wheel zooms."""

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setFocusPolicy(Qt.NoFocus)
        self.fitting = True     # the graph follows the view's size until the user zooms

    def fit(self) -> None:
        self.fitting = True
        r = self.scene().sceneRect()
        if r.isValid():
            self.fitInView(r, Qt.KeepAspectRatio)
            # never blow tiny graphs up beyond 1.6x
            if self.transform().m11() > 1.6:
                self.resetTransform()
                self.scale(1.6, 1.6)
                self.centerOn(r.center())

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        if self.fitting:
            self.fit()

    def wheelEvent(self, ev) -> None:
        self.fitting = False
        f = 1.15 if ev.angleDelta().y() > 0 else 1 / 1.15
        self.scale(f, f)


class HeatmapDialog(QDialog):
    """The full array of a tensor (value or gradient) as a heat map, with its statistics."""

    def __init__(self, title: str, arrays: list[tuple[str, np.ndarray]], parent=None):
        super().__init__(parent)
        import pyqtgraph as pg
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        head = QLabel(f"<b>{html.escape(title)}</b>")
        head.setStyleSheet(f"font-size: {style.font_pt(2):.1f}pt")
        lay.addWidget(head)
        row = QHBoxLayout()
        lay.addLayout(row)
        self.images = []
        for name, a in arrays:
            col = QVBoxLayout()
            a2 = np.asarray(a, dtype=np.float64)
            img = a2.reshape(1, -1) if a2.ndim < 2 else a2.reshape(a2.shape[0], -1)
            glw = pg.GraphicsLayoutWidget()
            glw.setBackground(style.BG)
            plot = glw.addPlot()
            plot.invertY(True)
            plot.setLabel("left", "row")
            plot.setLabel("bottom", "column")
            item = pg.ImageItem(np.ascontiguousarray(img.T, dtype=np.float32))
            m = float(np.max(np.abs(img))) if img.size else 1.0
            m = m if m > 0 else 1.0
            item.setLookupTable(pg.colormap.get("CET-D1").getLookupTable(nPts=256))
            item.setLevels((-m, m))
            plot.addItem(item)
            bar = pg.ColorBarItem(values=(-m, m), colorMap=pg.colormap.get("CET-D1"), interactive=False)
            bar.setImageItem(item, insert_in=plot)
            self.images.append(item)
            col.addWidget(QLabel(f"<b>{html.escape(name)}</b>"))
            col.addWidget(glw, 1)
            st = QLabel(array_stats(a2))
            st.setTextInteractionFlags(Qt.TextSelectableByMouse)
            st.setStyleSheet(f"font-size: {style.font_pt(-1):.1f}pt; font-family: {style.MONO_FONT}")
            col.addWidget(st)
            row.addLayout(col)
        self.resize(560 * len(arrays), 520)


def _one_line(e: BaseException, with_type: bool = False, limit: int = 400) -> str:
    """An exception as one short line for the error label."""
    text = " ".join(str(e).split()) or type(e).__name__
    if with_type and not text.startswith(type(e).__name__):
        text = f"{type(e).__name__}: {text}"
    return text if len(text) <= limit else text[:limit] + "…"


def array_stats(a: np.ndarray) -> str:
    """shape, min, max, mean, std, norm of ``a`` (formatting of NumPy reductions)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return f"shape {a.shape} (empty)"
    return (f"shape {' × '.join(map(str, a.shape)) or 'scalar'}   min {fmt(a.min(), 3)}   "
            f"max {fmt(a.max(), 3)}\nmean {fmt(a.mean(), 3)}   std {fmt(a.std(), 3)}   "
            f"norm {fmt(np.linalg.norm(a), 3)}")


class BackpropView(View):
    """The computational-graph backprop view.  Embed it as a tab; see the module docstring."""

    uses_dataset = uses_model = True    # "your network": the loaded data and a copy of the weights

    frameChanged = Signal(int)
    errorOccurred = Signal(str)
    practiceChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.walkthroughs: list[Walkthrough] = []
        self.current: Walkthrough | None = None
        self.spec: GraphSpec | None = None
        self.frame = 0
        self.network = None
        self.dataset = None
        self._net_graph = None       # (network copy in float64, loss node) for the gradient check
        self._net_batch = None       # (network copy, X, y) of the network walkthrough, for its SGD step
        self.update_result: dict | None = None    # the SGD step after the backward pass (network mode)
        self._window_lr = None       # the experiment's learning rate last copied into the α field
        self._heatmaps: list[QDialog] = []
        # practice mode: the student types each value before it is shown (engine.practice)
        self.practice = False
        self.score = Score()
        self.pending: tuple[int, Question] | None = None     # (frame index, what is asked)
        self.misses = 0
        self._feedback_colour = "fwd"
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._build_ui()
        self.restyle(rebuild=False)
        self._load_builtins()
        self.set_speed(1.0)

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        root.addLayout(top)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["Walkthrough", "Custom", "Network"])
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        top.addWidget(QLabel("Mode:"))
        top.addWidget(self.mode_combo)
        self.mode_stack = QStackedWidget()
        top.addWidget(self.mode_stack, 1)
        # walkthrough row
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        self.wt_combo = QComboBox()
        self.wt_combo.setMinimumContentsLength(40)
        self.wt_combo.currentIndexChanged.connect(self._walkthrough_chosen)
        h.addWidget(self.wt_combo, 1)
        self.open_button = QPushButton("Open walkthrough…")
        self.open_button.clicked.connect(self.open_walkthrough_dialog)
        h.addWidget(self.open_button)
        self.mode_stack.addWidget(w)
        # custom row
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(QLabel("f ="))
        self.expr_edit = QLineEdit("(x + y) * z")
        self.expr_edit.setPlaceholderText("an expression, e.g. 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))")
        h.addWidget(self.expr_edit, 3)
        h.addWidget(QLabel("values:"))
        self.values_edit = QLineEdit("x=-2, y=5, z=-4")
        self.values_edit.setPlaceholderText("x=-2, y=5, z=-4")
        h.addWidget(self.values_edit, 2)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self._run_custom)
        h.addWidget(self.run_button)
        self.expr_edit.returnPressed.connect(self._run_custom)
        self.values_edit.editingFinished.connect(self._run_custom)
        self.mode_stack.addWidget(w)
        # network row
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        self.net_label = QLabel("")
        h.addWidget(self.net_label, 1)
        h.addWidget(QLabel("α ="))
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 10.0)
        self.lr_spin.setSingleStep(0.01)
        self.lr_spin.setValue(0.1)
        self.lr_spin.setToolTip("The learning rate of the SGD step after the backward pass "
                                "(W ← W − α·dW); the experiment's when there is one")
        self.lr_spin.valueChanged.connect(self._lr_changed)
        h.addWidget(self.lr_spin)
        self.net_button = QPushButton("Recompute")
        self.net_button.clicked.connect(self._run_network)
        h.addWidget(self.net_button)
        self.mode_stack.addWidget(w)

        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.hide()
        root.addWidget(self.error_label)

        split = self.splitter = QSplitter(Qt.Horizontal)
        root.addWidget(split, 1)
        self.scene = GraphScene(self)
        self.scene.nodeClicked.connect(self._node_clicked)
        self.scene.edgeClicked.connect(self._edge_clicked)
        self.graph_view = GraphView(self.scene)
        split.addWidget(self.graph_view)
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        sv.addWidget(self.headline)
        self.narration = QTextBrowser()
        self.narration.setOpenLinks(False)
        sv.addWidget(self.narration, 3)
        self.practice_box = QWidget()
        pv = QVBoxLayout(self.practice_box)
        pv.setContentsMargins(0, 0, 0, 0)
        self.score_label = QLabel("")
        self.question_label = QLabel("")
        self.question_label.setWordWrap(True)
        self.answer_edit = QLineEdit()
        self.answer_edit.setPlaceholderText("type the value, Enter to check")
        self.answer_edit.returnPressed.connect(self.submit_answer)
        self.feedback_label = QLabel("")
        self.feedback_label.setWordWrap(True)
        self.feedback_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        for wdg in (self.score_label, self.question_label, self.answer_edit, self.feedback_label):
            pv.addWidget(wdg)
        self.practice_box.hide()
        sv.addWidget(self.practice_box)
        self.check_table = QTableWidget(0, 4)
        self.check_table.setHorizontalHeaderLabels(["leaf", "backprop", "numerical", "rel. error"])
        self.check_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.check_table.verticalHeader().hide()
        self.check_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.check_table.hide()
        sv.addWidget(self.check_table, 2)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 360])

        # the frame slider on its own row: on a projector scale the buttons take the whole width
        srow = QHBoxLayout()
        root.addLayout(srow)
        bar = QHBoxLayout()
        root.addLayout(bar)
        self._tool_buttons = []

        def tb(icon, text, tip, slot):
            b = QToolButton()
            b.setIcon(self.style().standardIcon(icon))
            b.setText(text)
            b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            b.setToolTip(tip)
            self._tool_buttons.append(b)
            b.clicked.connect(slot)
            bar.addWidget(b)
            return b
        sp = QStyle.StandardPixmap
        self.restart_button = tb(sp.SP_MediaSkipBackward, "Restart", "Restart (Home)", self.restart)
        self.back_button = tb(sp.SP_MediaSeekBackward, "Back", "Step back (Left arrow)", self.step_back)
        self.play_button = tb(sp.SP_MediaPlay, "Play", "Play / pause (Space)", self.toggle_play)
        self.step_button = tb(sp.SP_MediaSeekForward, "Step", "Step forward (Right arrow)", self.step_forward)
        self.practice_action = QAction("Practice", self)
        self.practice_action.setCheckable(True)
        self.practice_action.setToolTip("Practice: type each value and gradient before it is shown "
                                        "(Enter checks, Enter again goes on)")
        self.practice_action.toggled.connect(self.set_practice)
        self.practice_button = QToolButton()
        self.practice_action.setIcon(self.style().standardIcon(sp.SP_DialogApplyButton))
        self.practice_button.setDefaultAction(self.practice_action)
        self.practice_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self._tool_buttons.append(self.practice_button)
        bar.addWidget(self.practice_button)
        self.addAction(self.practice_action)                 # the view's context menu
        self.setContextMenuPolicy(Qt.ActionsContextMenu)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.valueChanged.connect(self.go_to_frame)
        srow.addWidget(self.slider, 1)
        self.frame_label = QLabel("")
        srow.addWidget(self.frame_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("speed"))
        self.speed_spin = QDoubleSpinBox()
        self.speed_spin.setRange(0.25, 50.0)
        self.speed_spin.setSingleStep(0.5)
        self.speed_spin.setSuffix(" steps/s")
        self.speed_spin.valueChanged.connect(self.set_speed)
        bar.addWidget(self.speed_spin)
        self.check_button = QPushButton("Gradient check")
        self.check_button.clicked.connect(self.run_gradient_check)
        bar.addWidget(self.check_button)
        self.export_button = QPushButton("Export frame…")
        self.export_button.clicked.connect(self.export_dialog)
        bar.addWidget(self.export_button)

        for key, slot in ((Qt.Key_Right, self.step_forward), (Qt.Key_Left, self.step_back),
                          (Qt.Key_Home, self.restart), (Qt.Key_Space, self.toggle_play)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.setFocusPolicy(Qt.StrongFocus)

    def restyle(self, rebuild: bool = True) -> None:
        """Fonts, line widths and colours from gui.style (its SCALE and theme): the controls'
        text, the headline, the narration and the graph (drawn again at the same frame).
        The main window calls it after Ctrl+= / Ctrl+- and View > Theme."""
        pt = style.font_pt
        self.setStyleSheet(
            f"QPushButton, QToolButton, QComboBox, QLineEdit, QLabel, QDoubleSpinBox {{ font-size: {pt(1):.1f}pt; }}")
        self.headline.setStyleSheet(f"font-size: {pt(4):.1f}pt; font-weight: bold")
        self.narration.setStyleSheet(f"font-size: {pt(2):.1f}pt")
        self.check_table.setStyleSheet(f"font-size: {pt(0):.1f}pt")
        self.practice_button.setStyleSheet(f"QToolButton:checked {{ background: {style.color('active_fill')}; "
                                           f"border: 2px solid {style.color('active')}; }}")
        self.score_label.setStyleSheet(f"font-size: {pt(3):.1f}pt; font-weight: bold; color: {style.color('fwd')}")
        self.question_label.setStyleSheet(f"font-size: {pt(3):.1f}pt; font-weight: bold")
        self.answer_edit.setStyleSheet(f"font-size: {pt(4):.1f}pt; font-family: {style.MONO_FONT}")
        self._restyle_feedback()
        self.error_label.setStyleSheet(f"color: {style.color('error')}; font-size: {pt(1):.1f}pt; font-weight: bold")
        self.frame_label.setMinimumWidth(int(150 * style.SCALE))
        for b in self._tool_buttons:
            b.setMinimumHeight(int(38 * style.SCALE))
            b.setIconSize(QSize(int(20 * style.SCALE), int(20 * style.SCALE)))
        if rebuild:
            self.scene.restyle()
            if self.spec is not None:
                k = self.frame
                self.frame = -1
                self.go_to_frame(k)          # the narration's colours
            self._arrange()

    #: a graph wider than this (width / height of its drawing) gets the whole width, with the
    #: narration below it; a narrower one has the narration beside it
    WIDE = 2.4

    def _arrange(self, fit: bool = False) -> None:
        """Narration beside the graph, or below a wide one (a chain of gates drawn beside the text
        would be fitted to a third of the view's height: small numbers on a projector)."""
        r = self.scene.sceneRect()
        wide = r.height() > 0 and r.width() / r.height() > self.WIDE
        split = self.splitter
        total = sum(split.sizes()) if split.orientation() == (Qt.Vertical if wide else Qt.Horizontal) else 0
        split.setOrientation(Qt.Vertical if wide else Qt.Horizontal)
        total = total or (split.height() if wide else split.width())
        if total > 0:
            if wide:     # the narration gets a third of the height (more with the practice panel)
                side = int((0.42 if self.practice else 0.34) * total)
            else:        # the narration's column: the graph keeps the width (its text grows)
                side = min(360, int(0.4 * total))
            split.setSizes([total - side, side])
        if fit or self.graph_view.fitting:
            self.graph_view.fit()

    # ------------------------------------------------------------------ walkthroughs
    def _load_builtins(self) -> None:
        try:
            self.walkthroughs = load_builtin_walkthroughs()
        except Exception as e:  # noqa: BLE001 — a broken bundled file must not take the view down
            self.walkthroughs = []
            self._show_error(_one_line(e, with_type=not isinstance(e, WalkthroughError)))
        self.wt_combo.blockSignals(True)
        self.wt_combo.clear()
        for w in self.walkthroughs:
            self.wt_combo.addItem(w.title, w.name)
        self.wt_combo.blockSignals(False)
        if self.walkthroughs:
            self.set_walkthrough(self.walkthroughs[0])

    def walkthrough_names(self) -> list[str]:
        return [w.name for w in self.walkthroughs]

    def select_walkthrough(self, name: str) -> None:
        """Show the built-in (or opened) walkthrough called ``name``."""
        idx = self.walkthrough_names().index(name)
        self.mode_combo.setCurrentIndex(0)
        if self.wt_combo.currentIndex() == idx:
            self.set_walkthrough(self.walkthroughs[idx])
        else:
            self.wt_combo.setCurrentIndex(idx)

    def _walkthrough_chosen(self, idx: int) -> None:
        if 0 <= idx < len(self.walkthroughs):
            self.set_walkthrough(self.walkthroughs[idx])

    def open_walkthrough(self, path) -> bool:
        """Load a walkthrough file from anywhere (File > Open walkthrough).

        On a bad file the problem is shown inline (and ``errorOccurred`` emitted) and the
        current graph stays; returns whether it loaded.  Every error of the loader is caught
        (an unexpected one is shown with its type), so the view stays usable; a FIFO or
        device is refused by the loader without being opened.
        """
        try:
            wt = load_walkthrough(path)
            spec = self._spec_for(wt)
        except (WalkthroughError, ExpressionError) as e:
            self._show_error(_one_line(e))
            return False
        except TooLargeToDraw as e:
            self._show_error(f"{Path(path).name}: {e}")
            return False
        except Exception as e:  # noqa: BLE001 — the view must survive any file
            self._show_error(f"{Path(path).name}: could not open it ({_one_line(e, with_type=True)})")
            return False
        for i, w in enumerate(self.walkthroughs):
            if w.name == wt.name and w.source == wt.source:
                self.walkthroughs[i] = wt
                break
        else:
            self.walkthroughs.append(wt)
            self.wt_combo.blockSignals(True)
            self.wt_combo.addItem(f"{wt.title}  [{Path(path).name}]", wt.name)
            self.wt_combo.blockSignals(False)
        self.mode_combo.blockSignals(True)
        self.mode_combo.setCurrentIndex(0)
        self.mode_stack.setCurrentIndex(0)
        self.mode_combo.blockSignals(False)
        self.wt_combo.blockSignals(True)
        self.wt_combo.setCurrentIndex(self.walkthroughs.index(wt))
        self.wt_combo.blockSignals(False)
        self.set_walkthrough(wt, spec)
        return True

    def open_walkthrough_dialog(self) -> None:
        start = str(BUILTIN_DIR)
        path, _ = QFileDialog.getOpenFileName(self, "Open walkthrough", start, "Walkthroughs (*.json);;All files (*)")
        if path:
            self.open_walkthrough(path)

    @staticmethod
    def _spec_for(wt: Walkthrough) -> GraphSpec:
        nodes = wt.nodes()
        if len(nodes) > MAX_DRAWN_NODES:
            raise TooLargeToDraw(f"the graph has {len(nodes):,} nodes; the view draws at most "
                                 f"{MAX_DRAWN_NODES} (a larger drawing takes too long to lay out)")
        trace = wt.trace if wt.trace is not None else wt.run()
        return GraphSpec(trace, {n.id: wt.label(n.id) for n in nodes}, wt.gate_labels(),
                         {n.id: n.op.describe for n in nodes if n.op is not None}, title=wt.title)

    def set_walkthrough(self, wt: Walkthrough, spec: GraphSpec | None = None) -> None:
        spec = spec if spec is not None else self._spec_for(wt)
        self.current = wt
        self._clear_error()
        self._set_spec(spec)

    # ------------------------------------------------------------------ custom
    def set_expression(self, expression: str, values: str) -> bool:
        """Custom mode: show ``expression`` with ``values`` ("x=-2, y=5"); errors inline."""
        self.mode_combo.blockSignals(True)
        self.mode_combo.setCurrentIndex(1)
        self.mode_stack.setCurrentIndex(1)
        self.mode_combo.blockSignals(False)
        self.expr_edit.setText(expression)
        self.values_edit.setText(values)
        return self._run_custom()

    def _run_custom(self) -> bool:
        try:
            wt = walkthrough_from_expression(self.expr_edit.text(), self.values_edit.text())
            spec = self._spec_for(wt)
        except (ExpressionError, WalkthroughError, TooLargeToDraw) as e:
            self._show_error(f"Expression: {_one_line(e)}")
            return False
        except Exception as e:  # noqa: BLE001 — the view must survive any input
            self._show_error(f"Expression: {_one_line(e, with_type=True)}")
            return False
        self.set_walkthrough(wt, spec)
        return True

    # ------------------------------------------------------------------ network
    def set_model(self, network) -> None:
        """A snapshot copy of the engine Network (the view keeps it; it is not trained here)."""
        self.network = network
        self._net_graph = None
        if self.mode_combo.currentIndex() == 2:
            self._run_network()
        self._update_net_label()

    def set_dataset(self, dataset) -> None:
        """The loaded engine Dataset; Network mode uses its first training examples."""
        self.dataset = dataset
        self._net_graph = None
        if self.mode_combo.currentIndex() == 2:
            self._run_network()
        self._update_net_label()

    def _update_net_label(self) -> None:
        if self.network is None:
            self.net_label.setText("No model yet: build one in the main window.")
        elif self.dataset is None:
            self.net_label.setText(f"{self.network.describe()} — load a dataset to run a minibatch.")
        else:
            n = min(MINIBATCH, len(self.dataset.X_train))
            self.net_label.setText(f"{self.network.describe()} — first {n} training examples of "
                                   f"{self.dataset.name}")

    def _run_network(self) -> bool:
        self._update_net_label()
        if self.network is None or self.dataset is None:
            self._show_error("Network mode needs a model and a loaded dataset (from the main window).")
            return False
        try:
            net = self.network.astype("float64")
            X = np.asarray(self.dataset.X_train[:MINIBATCH])
            y = np.asarray(self.dataset.y_train[:MINIBATCH])
            with np.errstate(all="ignore"):
                net.loss(X, y, grads=True, trace=True)
            trace = net.graph.trace
        except Exception as e:  # noqa: BLE001
            self._show_error(f"Network mode: {e}")
            return False
        self._net_graph = (net.graph, net.loss_node)
        self._net_batch = (net, X, y)
        self._sync_window_lr()
        self._compute_update()
        labels = {n.id: n.name for n in trace.nodes}
        gates = {n.id: n.symbol or n.op for n in trace.nodes}
        describe = {n.id: OPS[n.op].describe for n in trace.nodes if n.op in OPS}
        frames = build_frames(trace)
        frames.append(Frame(len(frames), "update", -1))     # from gradients to the update
        self.current = None
        self._clear_error()
        self._set_spec(GraphSpec(trace, labels, gates, describe, tensor=True,
                                 title=f"Network: {net.describe()}", frames=frames))
        return True

    # ------------------------------------------------------------------ network: the SGD step
    def _sync_window_lr(self) -> None:
        """α = the experiment's learning rate (the main window's ``cfg.optim.lr``) when it changed;
        otherwise the field keeps what the lecturer typed."""
        cfg = getattr(self.window(), "cfg", None)
        lr = getattr(getattr(cfg, "optim", None), "lr", None)
        if isinstance(lr, (int, float)) and lr > 0 and lr != self._window_lr:
            self._window_lr = lr
            self.lr_spin.blockSignals(True)
            self.lr_spin.setValue(float(lr))
            self.lr_spin.blockSignals(False)

    def learning_rate(self) -> float:
        return float(self.lr_spin.value())

    def set_learning_rate(self, lr: float) -> None:
        self.lr_spin.setValue(float(lr))

    def _compute_update(self) -> None:
        """One SGD step W ← W − α·dW on a copy of the weights (the window's model is never
        touched), and the loss again on the same minibatch."""
        self.update_result = None
        if self._net_batch is None:
            return
        net, X, y = self._net_batch
        lr = self.learning_rate()
        grads = net.grads
        with np.errstate(all="ignore"):
            old = float(net.loss_node.value)
            stepped = net.astype("float64")                   # a copy: net keeps the trace's weights
            stepped.set_params({k: p - lr * grads[k] for k, p in net.params.items()})
            new = stepped.loss(X, y, grads=False)[0]
        rows = [(k, p.shape, float(np.linalg.norm(grads[k])), float(lr * np.linalg.norm(grads[k])))
                for k, p in net.params.items()]
        self.update_result = {"lr": lr, "old_loss": old, "new_loss": float(new), "rows": rows,
                              "params": stepped.copy_params()}

    def _lr_changed(self, _value: float) -> None:
        self._compute_update()
        if self.spec is not None and self.spec.frames[self.frame].kind == "update":
            k, self.frame = self.frame, -1
            self.go_to_frame(k)

    def _narrate_update(self) -> tuple[str, str]:
        u = self.update_result
        if u is None:
            return "One SGD step", "The update could not be computed."
        old, new = u["old_loss"], u["new_loss"]
        head = f"One SGD step: loss {old:.4f} → {new:.4f}"
        lines = [f"{name} ← {name} − α·d{name}   ‖d{name}‖ = {fmt(g, 3)}, ‖α·d{name}‖ = {fmt(d, 3)}"
                 for name, shape, g, d in u["rows"]]
        if new < old:
            verdict = f"The loss went down by {old - new:.4f}: backprop's gradients point uphill, the step goes the other way."
        else:
            verdict = (f"The loss went up by {new - old:.4f}: α = {u['lr']:g} overshoots on this minibatch — "
                       "try a smaller α (the field above).")
        body = (f"The backward pass gave every parameter its gradient. Gradient descent takes one step "
                f"against it, W ← W − α·dW, with α = {u['lr']:g}, for every parameter. The forward pass "
                f"again on the same minibatch, with the updated copy of the weights: loss {old:.4f} → "
                f"{new:.4f}. {verdict}\n\n"
                + "\n".join(lines) + "\n\n"
                "Training repeats exactly this — forward, backward, update — on minibatch after minibatch.")
        return head, body

    def _mode_changed(self, idx: int) -> None:
        self.mode_stack.setCurrentIndex(idx)
        self.pause()
        if idx == 0 and 0 <= self.wt_combo.currentIndex() < len(self.walkthroughs):
            self.set_walkthrough(self.walkthroughs[self.wt_combo.currentIndex()])
        elif idx == 1:
            self._run_custom()
        elif idx == 2:
            self._run_network()

    # ------------------------------------------------------------------ frames
    def _set_spec(self, spec: GraphSpec) -> None:
        self.pause()
        self.spec = spec
        self.scene.set_spec(spec)
        self.check_table.hide()
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(spec.frames) - 1)
        self.slider.blockSignals(False)
        self.frame = -1
        self.score = Score()
        self.pending = None
        self.feedback_label.clear()
        self.go_to_frame(0)
        self._arrange(fit=True)

    def frame_count(self) -> int:
        return len(self.spec.frames) if self.spec else 0

    def frame_state(self) -> dict:
        """What is drawn now, as plain strings (for tests and tools)."""
        st = dict(self.scene.state or {}, headline=self.headline.text())
        if self.spec is not None and self.spec.frames[self.frame].kind == "update" and self.update_result:
            st.update(kind="update", old_loss=self.update_result["old_loss"],
                      new_loss=self.update_result["new_loss"])
        return st

    def go_to_frame(self, k: int) -> None:
        if self.spec is None:
            return
        k = max(0, min(int(k), len(self.spec.frames) - 1))
        if k == self.frame:
            return
        self.frame = k
        if self.spec.frames[k].kind == "update":
            self.scene.show_frame(k - 1)                 # every gradient stays shown
            self.scene.highlight_nodes([n.id for n in self.spec.trace.nodes if n.kind == "param"])
            head, body = self._narrate_update()
        else:
            self.scene.show_frame(k)
            head, body = narrate(self.spec.trace, self.spec.frames[k], self.spec.labels, gates=self.spec.gates,
                                 describe=self.spec.describe, wt=self.current)
        self.headline.setText(head)
        self.narration.setHtml(self._body_html(body))
        self.slider.blockSignals(True)
        self.slider.setValue(k)
        self.slider.blockSignals(False)
        self.frame_label.setText(f"step {k} / {len(self.spec.frames) - 1}")
        self.back_button.setEnabled(k > 0)
        self.step_button.setEnabled(k < len(self.spec.frames) - 1)
        self._update_practice()
        self.frameChanged.emit(k)

    @staticmethod
    def _body_html(body: str) -> str:
        parts = []
        for para in body.split("\n\n"):
            lines = [html.escape(l) for l in para.split("\n")]
            if lines and lines[0].startswith("downstream"):   # aligned, wrapped at spaces if narrow
                parts.append(f"<p style='font-family: {style.MONO_FONT}; white-space: pre-wrap; "
                             f"color:{style.color('bwd')}'>" + "<br>".join(lines) + "</p>")
            else:
                parts.append("<p>" + "<br>".join(lines) + "</p>")
        return "".join(parts)

    def step_forward(self) -> None:
        if self.practice and self.pending is not None and self.pending[0] == self.frame + 1:
            # the next value is the student's to type first
            self.pause()
            self._feedback("Type the value first, then Enter (a second miss shows it).", "active")
            self.answer_edit.setFocus()
            return
        self.go_to_frame(self.frame + 1)

    # ------------------------------------------------------------------ practice
    def set_practice(self, on: bool) -> None:
        """Practice mode on or off (for every walkthrough, custom expression and the network):
        before each value or gradient is shown, the student types it; Enter checks it."""
        on = bool(on)
        if self.practice_action.isChecked() != on:
            self.practice_action.setChecked(on)      # toggled calls back here
            return
        if self.practice == on:
            return
        self.practice = on
        self.pause()
        self.practice_box.setVisible(on)
        self.feedback_label.clear()
        self._update_practice()
        self._arrange()
        if on:
            self.answer_edit.setFocus()
        self.practiceChanged.emit(on)

    def is_practice(self) -> bool:
        return self.practice

    def practice_state(self) -> dict:
        """The practice panel as plain strings (for tests and tools)."""
        return {"on": self.practice, "question": self.question_label.text(),
                "feedback": self.feedback_label.text(), "score": self.score_label.text(),
                "right": self.score.right, "asked": self.score.asked,
                "pending": self.pending[0] if self.pending else None}

    def _update_practice(self) -> None:
        self.pending = None
        self.misses = 0
        if not self.practice or self.spec is None:
            return
        self.answer_edit.clear()
        self.score_label.setText(f"Score: {self.score.text()}")
        k = self.frame + 1
        if k >= len(self.spec.frames):
            self.question_label.setText(f"Done. {self.score.text()}.")
            return
        fr = self.spec.frames[k]
        q = expected(fr, self.spec.trace, self.spec.labels, self.spec.gates)
        if q is not None:
            self.pending = (k, q)
            kind = "value" if fr.kind == "forward" else "gradient"
            self.question_label.setText(f"Your turn — the next {kind}:\n{q.what} = ?")
        elif fr.kind in ("forward", "backward"):
            self.question_label.setText("The next step's value is a tensor: not asked. "
                                        "Press Enter (or →) to watch it.")
        else:
            self.question_label.setText("Press Enter (or →) for the next step.")

    def submit_answer(self) -> None:
        """Enter in the answer field: check the typed value, or (nothing asked) go on."""
        if not self.practice or self.spec is None:
            return
        if self.pending is None or self.pending[0] != self.frame + 1:
            self.go_to_frame(self.frame + 1)
            return
        k, q = self.pending
        text = self.answer_edit.text()
        if not text.strip():
            self._feedback("Type a number, e.g. -4.00, then Enter.", "active")
            return
        if check(text, q.value):
            self.score.record(k, self.misses == 0)
            self._feedback(f"✓ Right: {q.what} = {q.display}", "fwd")
            self.go_to_frame(k)
            return
        self.misses += 1
        self.answer_edit.selectAll()
        if self.misses == 1:
            h = hint(self.spec.frames[k], self.spec.trace, self.spec.labels, self.spec.gates)
            self._feedback(f"✗ Not {text.strip()}. Hint: {h}", "bwd")
            return
        self.score.record(k, False)
        self._feedback(f"✗ Not {text.strip()}: {q.what} = {q.display} (shown now).", "bwd")
        self.go_to_frame(k)

    def _feedback(self, text: str, colour: str) -> None:
        self._feedback_colour = colour
        self.feedback_label.setText(text)
        self._restyle_feedback()

    def _restyle_feedback(self) -> None:
        c = style.color(self._feedback_colour)
        self.feedback_label.setStyleSheet(f"font-size: {style.font_pt(2):.1f}pt; color: {c}")

    def step_back(self) -> None:
        self.pause()
        self.go_to_frame(self.frame - 1)

    def restart(self) -> None:
        self.pause()
        self.go_to_frame(0)

    def is_playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        if self.spec is None:
            return
        if self.frame >= len(self.spec.frames) - 1:
            self.go_to_frame(0)
        self.timer.start()
        self.play_button.setText("Pause")
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def set_speed(self, steps_per_second: float) -> None:
        steps_per_second = max(0.25, float(steps_per_second))
        self.timer.setInterval(max(1, int(1000 / steps_per_second)))
        if abs(self.speed_spin.value() - steps_per_second) > 1e-9:
            self.speed_spin.blockSignals(True)
            self.speed_spin.setValue(min(steps_per_second, self.speed_spin.maximum()))
            self.speed_spin.blockSignals(False)

    def _tick(self) -> None:
        if self.spec is None or self.frame >= len(self.spec.frames) - 1:
            self.pause()
            return
        if self.practice and self.pending is not None:
            self.pause()                   # playing stops at the student's next question
            return
        self.step_forward()
        if self.frame >= len(self.spec.frames) - 1:
            self.pause()

    # ------------------------------------------------------------------ gradient check
    def run_gradient_check(self) -> list[GradCheckRow]:
        """Every leaf's backprop gradient against the centered numerical one, in the table."""
        if self.current is not None:
            rows = self.current.gradient_check()
        elif self._net_graph is not None:
            g, out = self._net_graph
            rows = graph_gradient_check(g, out, self.spec.trace, self.spec.labels, max_per_leaf=12,
                                        rng=np.random.default_rng(0))
        else:
            return []
        self.check_table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = [r.name, fmt(r.analytic, 6) if r.analytic.size == 1 else f"{r.analytic.size} values",
                     fmt(r.numeric, 6) if r.numeric.size == 1 else "(sampled)", f"{r.rel_error:.1e}"]
            for j, c in enumerate(cells):
                item = QTableWidgetItem(c)
                if j == 3:
                    item.setForeground(col("fwd") if r.rel_error < 1e-6 else col("bwd"))
                self.check_table.setItem(i, j, item)
        self.check_table.show()
        worst = max((r.rel_error for r in rows), default=0.0)
        verdict = "all agree" if worst < 1e-6 else (
            "check the red rows — a large error can also come from a kink, e.g. a ReLU input or a max "
            "exactly at a tie, where the numerical slope averages the two sides")
        self.narration.append(f"<p><b>Gradient check</b> (centered difference, h = 1e-5): worst relative "
                              f"error {worst:.1e} — {verdict}.</p>")
        return rows

    # ------------------------------------------------------------------ clicks: heat maps
    def _node_clicked(self, nid: int) -> None:
        self._show_array(nid)

    def _edge_clicked(self, parent: int, child: int) -> None:
        self._show_array(parent)

    def _show_array(self, nid: int) -> None:
        if self.spec is None or not self.spec.tensor:
            return
        st = self.scene.state or {}
        arrays = []
        if nid in st.get("known", []):
            arrays.append(("value", self.spec.values[nid]))
        grads = self.spec.trace.grads()
        shown_grad = any(k[0] == nid for k in st.get("grads", {})) or (nid == self.spec.trace.output and st.get("out_grad"))
        if shown_grad and nid in grads:
            arrays.append(("gradient", grads[nid]))
        if not arrays:
            return
        name = self.spec.labels.get(nid, str(nid))
        dlg = HeatmapDialog(name, arrays, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        self._heatmaps = [d for d in self._heatmaps if d.isVisible()] + [dlg]
        dlg.show()

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export frame", f"backprop-step{self.frame}.png",
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                self.export_image(path)
            except OSError as e:
                self._show_error(f"Could not export: {e}")

    def export_image(self, path, scale: float = 2.0) -> Path:
        """Write the current frame (graph + title + the step's headline) as PNG or SVG."""
        path = Path(path)
        rect = self.scene.sceneRect()
        title = self.spec.title if self.spec else ""
        head = self.headline.text()
        band = 90.0
        out = QRectF(0, 0, rect.width(), rect.height() + band)

        def draw(p: QPainter) -> None:
            p.fillRect(out, col("graph_bg"))
            p.setRenderHint(QPainter.Antialiasing)
            p.setRenderHint(QPainter.TextAntialiasing)
            f = QFont(style.GRAPH_FONT)
            f.setPixelSize(style.EXPORT_TITLE_PX)
            f.setBold(True)
            p.setFont(f)
            p.setPen(col("graph_text"))
            p.drawText(QRectF(20, 6, out.width() - 40, 40), Qt.AlignLeft | Qt.AlignVCenter, title)
            f.setPixelSize(style.EXPORT_HEADLINE_PX)
            f.setBold(False)
            p.setFont(f)
            p.setPen(col("graph_caption"))
            p.drawText(QRectF(20, 46, out.width() - 40, 36), Qt.AlignLeft | Qt.AlignVCenter, head)
            self.scene.render(p, QRectF(0, band, rect.width(), rect.height()), rect)

        return export_painting(path, out.size().toSize(), draw, scale=scale, background=col("graph_bg"),
                               title=title)

    # ------------------------------------------------------------------ messages
    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.errorOccurred.emit(message)

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() or self.error_label.text() else ""


def create_open_walkthrough_action(view: BackpropView, parent=None) -> QAction:
    """A QAction "Open walkthrough…" for the File menu, wired to ``view``."""
    act = QAction("Open &walkthrough…", parent or view)
    act.setStatusTip("Open a backprop walkthrough file (.json)")
    act.triggered.connect(view.open_walkthrough_dialog)
    return act
