"""The main window: dock panels that edit the experiment, central tabs of live views, and the
training controller that runs the engine's Trainer in a worker thread."""
from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QScrollArea, QTabWidget)

from engine.config import ConfigError, ExperimentConfig, get_path
from engine.datasets import DatasetError
from engine.datasets.registry import is_toy
from engine.experiment import (Experiment, ExperimentError, experiment_of_run, inputs_of, load_experiment,
                               save_experiment, weights_mismatch)
from engine.trainer import LIVE_PATHS as LIVE   # config path → live setting name

from . import style
from .config_model import ConfigModel
from .controller import TrainingController, history_from_saved
from .export import KINDS, export_plots, export_text, export_widget
from .jobs import JobRunner
from .loader import describe_load_error, load_job
from .panels.architecture import ArchitecturePanel
from .panels.dataset import DatasetPanel
from .panels.loss import LossPanel
from .panels.training import TrainingPanel
from .undo import ReplaceConfig, SetConfigValue
from .views.loss_view import LossView
from .views.units_view import HiddenUnitsView
from .views.predictions_view import PredictionsView
from .views.regions_view import DecisionRegionsView
from .views.state import ViewState
from .views.templates_view import WeightTemplatesView

SETTINGS_VERSION = 1
REDRAW_MS = 30
HOOK_INTERVAL = 2.0


def default_config() -> ExperimentConfig:
    """The live demo: the spiral set and a small ReLU MLP that converges in seconds."""
    cfg = ExperimentConfig()
    cfg.dataset.name, cfg.dataset.classes, cfg.dataset.samples, cfg.dataset.noise = "spiral", 3, 100, 0.2
    cfg.model.hidden, cfg.model.activations = [32, 32], ["relu", "relu"]
    cfg.loss.loss, cfg.loss.reg, cfg.loss.reg_strength = "softmax", "l2", 1e-3
    cfg.optim.optimizer, cfg.optim.lr, cfg.optim.batch_size, cfg.optim.epochs = "sgd", 0.5, 64, -1
    return cfg


def make_settings() -> QSettings:
    """Settings live in $BACKPROP_STUDIO_SETTINGS (an INI file; tests use a tmp one) or the user's store."""
    path = os.environ.get("BACKPROP_STUDIO_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("BackpropStudio", "Backprop Studio")


class MainWindow(QMainWindow):
    redrawn = Signal()          # after a redraw tick that drew something (tests, benchmark)
    dataset_changed = Signal(object)
    error_shown = Signal(str)

    def __init__(self, restore: bool = True):
        super().__init__()
        self.setWindowTitle("Backprop Studio")
        self.setDockNestingEnabled(True)
        self.settings = make_settings()
        # the configuration: panels bind to it, undo commands change it, the window reacts
        self.config_model = ConfigModel(default_config(), self)
        self._dataset_cfg = None            # the DatasetConfig of the loaded dataset
        self.state = ViewState()
        self.controller = TrainingController(self)
        self.undo_stack = QUndoStack(self)
        self.pool = QThreadPool.globalInstance()
        self.loader = JobRunner(self, pool=self.pool, describe=describe_load_error)
        self.loader.progress.connect(self._on_load_progress)
        self.loader.finished.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self._loading_cfg = None            # the DatasetConfig being loaded
        self._newest = None
        self._dirty = False
        self._last_hook = 0.0
        self._last_stats = 0.0
        self._focus_state = None   # dock layout saved while a lecture tab has the whole window
        self._hook_stale: set = set()
        self._hook_dataset: dict = {}
        self._closing = False
        self.redraw_count = 0
        self.last_error = ""
        self._pending_open = None   # (path, Experiment, previous config) until its dataset has loaded
        self._defer_load = False    # several dataset settings being applied as one edit: load once, after

        # views
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.loss_view = LossView(self.state.history)
        self.templates_view = WeightTemplatesView(self.state)
        self.regions_view = DecisionRegionsView(self.state)
        self.predictions_view = PredictionsView(self.state, self)
        self.units_view = HiddenUnitsView(self.state)
        for v in (self.loss_view, self.regions_view, self.units_view, self.templates_view, self.predictions_view):
            self.tabs.addTab(v, v.title)
        self.tabs.currentChanged.connect(self._on_tab)
        self.setCentralWidget(self.tabs)
        # the lecture's second half and its labs (they get the dataset and a model snapshot)
        from .backprop import BackpropView
        from .labs import LabsWidget
        self.backprop_view = BackpropView()
        self.labs_widget = LabsWidget(load_default=False)
        # the window's Space / Right shortcuts dispatch to the view when it is shown (two shortcuts
        # for one key would be ambiguous and neither would fire)
        from PySide6.QtGui import QShortcut
        for sc in self.backprop_view.findChildren(QShortcut):
            if sc.key() in (QKeySequence(Qt.Key_Space), QKeySequence(Qt.Key_Right)):
                sc.setEnabled(False)
        self.add_view_tab(self.backprop_view, "Backprop")
        self.add_view_tab(self.labs_widget, "Labs")
        self._style_tab_bar()

        # panels
        self.dataset_panel = DatasetPanel(self)
        self.architecture_panel = ArchitecturePanel(self)
        self.loss_panel = LossPanel(self)
        self.training_panel = TrainingPanel(self)
        self.panels = [self.dataset_panel, self.architecture_panel, self.loss_panel, self.training_panel]
        for p in self.panels:
            self.config_model.bind(p.sections, p.load)
        self.config_model.changed.connect(self._on_config_changed)
        self.config_model.replaced.connect(self._on_config_replaced)
        self.docks = {}
        for key, title, panel, area in (("dataset", "Dataset", self.dataset_panel, Qt.LeftDockWidgetArea),
                                        ("architecture", "Architecture", self.architecture_panel, Qt.LeftDockWidgetArea),
                                        ("loss", "Loss && regularization", self.loss_panel, Qt.RightDockWidgetArea),
                                        ("training", "Training", self.training_panel, Qt.RightDockWidgetArea)):
            dock = QDockWidget(title, self)   # "&&": a dock title shows "&" as a mnemonic marker
            dock.setObjectName(f"dock_{key}")
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(panel)
            scroll.setFrameShape(QScrollArea.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            # never narrower than the panel's controls (no clipped fields), room for the scrollbar
            dock.setMinimumWidth(panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 8)
            dock.setWidget(scroll)
            self.addDockWidget(area, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["dataset"], self.docks["architecture"])
        self.docks["dataset"].raise_()
        self.splitDockWidget(self.docks["training"], self.docks["loss"], Qt.Vertical)
        for dock in self.docks.values():
            dock.setMinimumWidth(max(360, dock.minimumWidth()))
        self.resizeDocks([self.docks["dataset"], self.docks["training"]], [390, 430], Qt.Horizontal)
        self.resizeDocks([self.docks["training"], self.docks["loss"]], [560, 440], Qt.Vertical)
        self.tabs.setMinimumWidth(400)

        self.status = QLabel("")
        self.statusBar().addWidget(self.status, 1)

        # controller
        c = self.controller
        c.snapshot.connect(self._on_snapshot)
        c.running_changed.connect(self._on_running)
        c.failed.connect(self._on_failed)
        c.reset_done.connect(self._on_reset)
        c.message.connect(self.show_status)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.PreciseTimer)   # a coarse timer drifts below 30 frames a second
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()

        self._build_menus()
        if restore:
            self._restore_settings()
        else:
            self.resize(1600, 1000)
        self._reload_panels()
        self.load_dataset(initial=True)

    # ================================================================== public hooks
    def config(self) -> ExperimentConfig:
        """The current ExperimentConfig (a copy)."""
        return self.config_model.copy()

    @property
    def cfg(self) -> ExperimentConfig:
        """The current ExperimentConfig itself, to read (edits go through the undo stack)."""
        return self.config_model.current

    @property
    def views(self) -> list:
        """The tabs (gui.views.base.View each), in order."""
        return [self.tabs.widget(i) for i in range(self.tabs.count())]

    def current_dataset(self):
        return self.state.dataset

    def current_model_snapshot(self):
        """A copy of the engine Network, safe to use on the GUI thread."""
        return self.controller.model_snapshot()

    def add_view_tab(self, widget, title: str) -> int:
        """Add a view (a gui.views.base.View).  If it uses_dataset / uses_model, set_dataset /
        set_model are called when the dataset changes and when the model is reset, paused or
        stepped — for a hidden tab when it is next shown.  While training only a live_model view
        follows (every 2 s, the predictions): a backprop walkthrough or a lab the lecturer is
        stepping through is not restarted under their hands."""
        i = self.tabs.addTab(widget, title)
        self._hook_stale.add(widget)
        return i

    def _hook_targets(self) -> list:
        return [v for v in self.views if v.uses_dataset or v.uses_model]

    def _call_hooks(self, only=None) -> None:
        """Give views the current dataset and a model snapshot (the visible one now, others later)."""
        current = self.tabs.currentWidget()
        running = self.controller.running
        targets = [only] if only is not None else self._hook_targets()
        snap_model = None
        for w in targets:
            live = w.live_model or not running
            if only is None and (w is not current or not live):
                self._hook_stale.add(w)
                continue
            self._hook_stale.discard(w)
            if w.uses_dataset and self.state.dataset is not None \
                    and self._hook_dataset.get(id(w)) is not self.state.dataset:
                try:
                    w.set_dataset(self.state.dataset)
                    self._hook_dataset[id(w)] = self.state.dataset
                except Exception as e:  # a faulty view must not take the window down
                    self.show_error(f"{type(w).__name__}.set_dataset failed: {e}")
            if w.uses_model:
                if snap_model is None:
                    snap_model = self.current_model_snapshot()
                if snap_model is not None:
                    try:
                        w.set_model(snap_model)
                    except Exception as e:
                        self.show_error(f"{type(w).__name__}.set_model failed: {e}")
        self._last_hook = time.monotonic()

    # ================================================================== config editing
    def edit_config(self, path: str, value, mergeable: bool = False) -> bool:
        """An edit from a panel: validated, then pushed as an undoable command."""
        old = get_path(self.cfg, path)
        if old == value:
            return True
        if path == "dataset.name":
            return self._switch_dataset(value)
        if not self._possible({path: value}):
            return False
        self.undo_stack.push(SetConfigValue(self.config_model, path, old, value, mergeable))
        return True

    def _possible(self, edits: dict) -> bool:
        """Whether the configuration with ``edits`` applied is valid; if not, a message names the
        problem and the panels show the current values again."""
        try:
            self.config_model.with_edits(edits).validate()
        except ConfigError as e:
            self.show_error(f"That value is not possible: {e}", title="Refused")
            self._reload_panels()
            return False
        return True

    def dataset_switch_edits(self, name: str) -> dict:
        """The settings that go with choosing dataset ``name`` (engine.config.dataset_defaults):
        an image set gets a preprocessing and a learning rate that train on it; going back from
        an image set to a set without defaults restores the live demo's. Only values that change."""
        from engine.config import dataset_defaults
        edits = dataset_defaults(name)
        if not edits and dataset_defaults(self.cfg.dataset.name):
            demo = default_config()
            edits = {p: get_path(demo, p) for p in dataset_defaults(self.cfg.dataset.name)}
        return {p: v for p, v in edits.items() if get_path(self.cfg, p) != v}

    def _switch_dataset(self, name: str) -> bool:
        """Choose another dataset and, with it, its preprocessing and learning-rate defaults: one
        undoable step, one load (not one per setting), and the status line says what was set."""
        from engine.config import describe_defaults
        extra = self.dataset_switch_edits(name)
        if not self._possible({**extra, "dataset.name": name}):
            return False
        self._defer_load = True
        self.undo_stack.beginMacro(f"dataset {name}")
        try:
            for p, v in {**extra, "dataset.name": name}.items():
                self.undo_stack.push(SetConfigValue(self.config_model, p, get_path(self.cfg, p), v))
        finally:
            self.undo_stack.endMacro()
            self._defer_load = False
        self.load_dataset()
        if extra:
            self.show_status(f"{name}: {describe_defaults(extra)} (the defaults that train on it; "
                             "change them in the panels)")
        return True

    def apply_preset(self, key: str) -> None:
        """Presets menu: the preset's whole configuration in one undoable step; its dataset loads, and
        the tab that shows its point comes forward (the weight templates for a linear classifier)."""
        from engine.presets import PRESETS
        preset = PRESETS[key]
        cfg = preset.config()
        self.set_config(cfg, f"preset {preset.title}")
        if not cfg.model.hidden:
            self.tabs.setCurrentWidget(self.templates_view)
        self.show_status(f"{preset.title}: loading {cfg.dataset.name} — press Space to train "
                         f"({cfg.optim.epochs} epochs). Edit ▸ Undo brings back the previous settings.")

    def set_config(self, cfg: ExperimentConfig, text: str = "settings") -> None:
        """Every setting at once, as one undoable step (a preset; tests set up a run this way)."""
        self.undo_stack.push(ReplaceConfig(self.config_model, self.cfg, cfg, text))

    def _on_config_replaced(self, revert: bool) -> None:
        """A whole new configuration: one dataset load (which rebuilds the network with it). A
        revert goes back to the configuration whose dataset and network are loaded: nothing to do."""
        if not revert:
            self.controller.stop_and_wait()
            self.load_dataset()

    def _on_config_changed(self, path: str, value) -> None:
        """One setting changed (through an undo command): make it take effect."""
        if path in LIVE:
            self.controller.set_live(LIVE[path], value)
            self.show_status(f"{path.split('.')[-1]} = {value:g} — takes effect at the next step"
                             if isinstance(value, (int, float)) and not isinstance(value, bool)
                             else f"{path} = {value}")
        elif path.startswith("dataset."):
            if not self._defer_load:
                self.load_dataset()
        elif path == "seed":
            self.show_status(f"seed {value}: press Reset (R) to re-initialise with it")
        else:
            self._rebuild(f"{path} changed — the network was re-initialised")

    def _reload_panels(self) -> None:
        """Show the configuration again (after a refused edit the controls hold the refused value)."""
        for p in self.panels:
            p.load(self.cfg)

    def _rebuild(self, why: str = "") -> None:
        d = self.state.dataset
        if d is None:
            return
        was = self.controller.running
        try:
            self.controller.build(self.cfg, d)
        except ConfigError as e:
            self.show_error(str(e), title="Cannot build this network")
            return
        self.state.model_cfg = self.cfg.model
        self.state.loss_cfg = self.cfg.loss
        self.architecture_panel.update_diagram(self.cfg, d)
        if why:
            self.show_status(why)
        if was:
            self.controller.start()

    # ================================================================== dataset
    def load_dataset(self, initial: bool = False) -> None:
        cfg = self._loading_cfg = copy.deepcopy(self.cfg.dataset)
        self.dataset_panel.set_progress(0.0, f"Loading {cfg.name}…")
        # a toy set takes a millisecond: at start it is ready at once
        self.loader.start(load_job(cfg), now=is_toy(cfg.name) and initial)

    def loading(self) -> bool:
        return self.loader.busy

    def _on_load_progress(self, frac, msg) -> None:
        self.dataset_panel.set_progress(frac, msg)

    def _on_loaded(self, dataset) -> None:
        if self._closing:
            return
        cfg = self._loading_cfg
        pending, self._pending_open = self._pending_open, None
        if pending is not None and pending[1].weights is not None:
            problem = self._weights_problem(pending[1], dataset)
            if problem:     # nothing of the experiment is taken: the previous one stays, whole
                self._abandon_open(pending, problem)
                return
        was = self.controller.running
        self.controller.stop_and_wait()
        self._dataset_cfg = cfg
        self.state.dataset = dataset
        self.state.version += 1
        self.dataset_panel.show_dataset(dataset)
        self._rebuild(f"Loaded {dataset.summary()}")
        if self.controller.trainer is not None and self.controller.trainer.data is dataset:
            self.show_status(f"Loaded {dataset.summary()} · step 0 loss "
                             f"{self.controller.trainer.initial[0]:.4f} — {self.controller.trainer.sanity_check()}")
        if pending is not None and pending[1].weights is not None and self.controller.trainer is not None:
            try:
                self.controller.trainer.model.set_params(pending[1].weights)
            except ConfigError as e:
                self.show_error(str(weights_mismatch(pending[1], e)), title="Weights not loaded")
            else:
                self._show_saved_run(pending[0], pending[1])
        self._call_hooks()
        self.dataset_changed.emit(dataset)
        if was and not self.controller.running:
            self.controller.start()

    def _on_load_failed(self, msg) -> None:
        if self._closing:
            return
        cfg = self._loading_cfg
        pending, self._pending_open = self._pending_open, None
        back = (pending[2] if pending is not None else self.cfg).copy()
        if pending is not None:     # an experiment being opened: its dataset failed, it is not opened
            msg = f"{msg}\n\nThe experiment {pending[0]} was not opened."
        self.dataset_panel.set_progress(0.0, "")
        if self._dataset_cfg is None and not is_toy(cfg.name):
            # nothing loaded yet (e.g. the remembered dataset is gone): fall back to the demo's
            back.dataset = default_config().dataset
            self.undo_stack.clear()
            self.config_model.replace(back)
        elif self._dataset_cfg is not None:
            # the previous dataset stays loaded, and its settings with it
            back.dataset = copy.deepcopy(self._dataset_cfg)
            self.undo_stack.clear()  # the failed edit is gone; older commands could now mis-apply
            self.config_model.replace(back, revert=True)
            self.dataset_panel.show_dataset(self.state.dataset)
        elif pending is not None:
            self.config_model.replace(back, revert=True)
        self.show_error(f"Could not load {cfg.name}:\n{msg}" +
                        ("\n\nThe previous dataset stays loaded." if self.state.dataset is not None else ""),
                        title="Dataset not loaded")

    # ================================================================== training
    def toggle_training(self) -> None:
        if self.controller.running:
            self.controller.pause()
        else:
            self.controller.start()
        self.training_panel.set_running(self.controller.running)

    def start_training(self) -> None:
        if not self.controller.running:
            self.controller.start()

    def pause_training(self) -> None:
        self.controller.pause()

    def step_once(self) -> None:
        if self.controller.running:
            self.show_status("Pause first (Space) to step one minibatch at a time")
            return
        self.controller.step()
        self._call_hooks()

    def reset_training(self) -> None:
        self.controller.reset(self.cfg.seed)
        self._call_hooks()
        self.show_status(f"Re-initialised the network with seed {self.cfg.seed}")

    def _on_reset(self) -> None:
        self.state.history.clear()
        self.state.snap = None
        self.state.grid = None
        self.state.preds = None
        self._newest = None
        self.state.version += 1
        self.loss_view.invalidate()
        self.loss_view.reset_ranges()
        t = self.controller.trainer
        if t is not None:   # step 0: the loss before any update, and the lecture's sanity check
            self.loss_view.set_initial(t.initial, t.sanity_check())
        self._sync_grid_wish()

    def _on_snapshot(self, snap) -> None:
        """Keep only the newest; history deltas are appended at once (cheap)."""
        self.state.history.add(snap)
        self.state.take(snap)
        self._newest = snap
        self._dirty = True
        if snap.diverged:
            self.show_error(f"Training paused: {snap.reason}.", title="The loss diverged")

    def _on_running(self, running: bool) -> None:
        self.training_panel.set_running(running)
        if not running:
            self._redraw(force=True)
            self._call_hooks()

    def _on_failed(self, msg: str) -> None:
        if msg.startswith("diverged:"):
            self.show_error(f"Training is stopped: {msg[9:]}.\nLower the learning rate and press Reset.",
                            title="The loss diverged")
            return
        self.show_error("Training stopped because of an error:\n" + msg, title="Training failed")

    # ================================================================== drawing
    def _focus_tabs(self) -> tuple:
        """Tabs that are not about the training run: they get the whole window (docks hidden)."""
        return (self.backprop_view, self.labs_widget)

    def _apply_focus(self) -> None:
        focus = self.tabs.currentWidget() in self._focus_tabs()
        if focus and self._focus_state is None:
            self._focus_state = self.saveState(SETTINGS_VERSION)
            for dock in self.docks.values():
                dock.hide()
        elif not focus and self._focus_state is not None:
            state, self._focus_state = self._focus_state, None
            self.restoreState(state, SETTINGS_VERSION)

    def _on_tab(self, _i: int) -> None:
        self._apply_focus()
        self._sync_grid_wish()
        w = self.tabs.currentWidget()
        if w in self._hook_stale and (w.live_model or not self.controller.running):
            self._call_hooks(only=w)
        if not self.controller.running and self.tabs.currentWidget() is self.regions_view:
            self.controller.publish_now()   # a paused run: compute the regions for the current weights
        self._redraw(force=True)

    def _sync_grid_wish(self) -> None:
        shown = self.tabs.currentWidget()
        self.controller.want(grid=shown.shows_regions, predictions=shown.shows_predictions)

    def _redraw(self, force: bool = False) -> None:
        # While the GUI thread redraws and paints, the worker waits between two steps (it holds
        # the frame lock only for the duration of one step): the frame then runs at full speed
        # instead of fighting the worker for the GIL call by call, which costs both sides more.
        with self.controller.frame_lock:
            self._redraw_locked(force)

    def _redraw_locked(self, force: bool) -> None:
        if self._newest is not None and (self._dirty or force):
            self.state.version += 1
            self._dirty = False
            now = time.monotonic()
            if force or now - self._last_stats >= 0.25 or not self._newest.running:
                self._last_stats = now
                self._update_progress(self._newest)
        view = self.tabs.currentWidget()
        drew = bool(view.refresh())
        if drew:
            self.redraw_count += 1
            self.redrawn.emit()
        if self.controller.running and time.monotonic() - self._last_hook >= HOOK_INTERVAL:
            self._call_hooks()

    def _update_progress(self, s) -> None:
        o = self.cfg.optim
        p = self.training_panel
        t = self.controller.trainer
        pace = [f"step {s.step:,}", f"epoch {s.epoch:.2f}"]
        if s.steps_per_sec > 0:
            pace.append(f"{s.steps_per_sec:,.0f} steps/s")
        if o.epochs > 0:
            p.progress.setValue(int(1000 * min(1.0, s.epoch / o.epochs)))
            if s.steps_per_sec > 0 and t is not None:
                per_epoch = len(t.data.y_train) / max(1, s.batch_size)
                left = max(0.0, (o.epochs - s.epoch) * per_epoch / s.steps_per_sec)
                pace.append(f"{left:.0f} s left")
        else:
            p.progress.setValue(int(1000 * (s.epoch % 1.0)))
        loss = f"{s.loss:.4f}" if abs(s.loss) < 1e5 else f"{s.loss:.4g}"     # (a diverging run's 7.2e+15)
        lines = [" · ".join(pace), f"loss {loss} · lr {s.lr:.3g} · batch {s.batch_size}"]
        h = self.state.history
        if len(h["val_acc"]):
            lines.append(f"train acc {h['train_acc'][-1]:.1%} · val acc {h['val_acc'][-1]:.1%}")
        elif s.step == 0 and t is not None:
            lines.append(t.sanity_check())
        p.stats.setText("\n".join(lines))

    # ================================================================== messages
    def show_status(self, msg: str) -> None:
        self.status.setText(msg)

    def show_error(self, msg: str, title: str = "Backprop Studio") -> None:
        """A non-blocking message box (the window stays usable; tests read last_error)."""
        self.last_error = msg
        self.show_status(msg.splitlines()[0] if msg else "")
        self.error_shown.emit(msg)
        if os.environ.get("BACKPROP_STUDIO_NO_DIALOGS"):
            return
        box = QMessageBox(QMessageBox.Warning, title, msg, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    # ================================================================== menus & shortcuts
    def _act(self, menu, text, slot, shortcut=None, checkable=False) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ApplicationShortcut)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        menu.addAction(a)
        self.addAction(a)
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._act(f, "&Open experiment…", self.open_experiment_dialog, "Ctrl+O")
        self._act(f, "&Save experiment…", self.save_experiment_dialog, "Ctrl+S")
        self._act(f, "Open &walkthrough…", self.open_walkthrough_dialog, "Ctrl+Shift+O")
        f.addSeparator()
        self._act(f, "Export current view as &PNG…", lambda: self.export_dialog("png"))
        self._act(f, "Export current view as S&VG…", lambda: self.export_dialog("svg"))
        self._act(f, "Export loss curves as &CSV…", lambda: self.export_dialog("csv"))
        self._act(f, "Export as Py&Torch script…", self.export_torch_dialog)
        f.addSeparator()
        self._act(f, "&Quit", self.close, "Ctrl+Q")
        e = mb.addMenu("&Edit")
        u = self.undo_stack.createUndoAction(self, "&Undo")
        u.setShortcut(QKeySequence("Ctrl+Z"))
        r = self.undo_stack.createRedoAction(self, "&Redo")
        r.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for a in (u, r):
            e.addAction(a)
            self.addAction(a)
        t = mb.addMenu("&Training")
        self.train_action = self._act(t, "&Train / pause", self._space_key, "Space")
        self._act(t, "&Step one minibatch", self._right_key, "Right")
        self._act(t, "&Reset (re-initialise with the seed)", self.reset_training, "R")
        pr = mb.addMenu("&Presets")
        from engine.presets import PRESETS
        self.preset_actions = {}
        for key, preset in PRESETS.items():
            a = self._act(pr, preset.title.replace("&", "&&"), lambda _=False, k=key: self.apply_preset(k))
            a.setStatusTip(preset.description)
            a.setToolTip(preset.description)
            self.preset_actions[key] = a
        pr.setToolTipsVisible(True)
        v = mb.addMenu("&View")
        self._act(v, "&Larger fonts and lines", lambda: self.set_scale(style.SCALE * 1.15), "Ctrl+=")
        self._act(v, "&Smaller fonts and lines", lambda: self.set_scale(style.SCALE / 1.15), "Ctrl+-")
        th = v.addMenu("&Theme")
        self.theme_actions = {}
        group = QActionGroup(self)
        for name, text in (("dark", "&Dark (projector, dim room)"), ("light", "&Light (bright room)")):
            a = self._act(th, text, lambda _=False, n=name: self.set_theme(n), checkable=True)
            a.setChecked(style.THEME == name)
            group.addAction(a)
            self.theme_actions[name] = a
        self._act(v, "&Full screen", self.toggle_full_screen, "F11")
        # one click for the whole class: every backprop walkthrough asks each value first
        self.practice_action = self._act(v, "&Practice backprop (students type each value)",
                                         self.backprop_view.set_practice, checkable=True)
        self.backprop_view.practiceChanged.connect(self.practice_action.setChecked)
        v.addSeparator()
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        self._act(v, "Restore the default &layout", self.restore_default_layout)
        h = mb.addMenu("&Help")
        self._act(h, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._act(h, "&About Backprop Studio", self.show_about)

    SHORTCUTS = [("Space", "train / pause (Backprop tab: play / pause the walkthrough)"),
                 ("→", "one minibatch step while paused (Backprop tab: next step; ← previous)"),
                 ("Ctrl+Shift+O", "open a backprop walkthrough file"),
                 ("R", "reset: re-initialise with the seed"), ("Ctrl+S / Ctrl+O", "save / open the experiment"),
                 ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo a configuration edit"),
                 ("Ctrl+= / Ctrl+-", "larger / smaller fonts and lines (projector)"), ("F11", "full screen"),
                 ("F1", "this list")]

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in self.SHORTCUTS)
        box = QMessageBox(QMessageBox.Information, "Keyboard shortcuts", f"<table>{rows}</table>",
                          QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    ABOUT_TEXT = (
        "<b>Backprop Studio</b>: neural networks from one lecture, trained live.<br><br>"
        "<b>Bundled data</b> (details and licences: resources/DATASETS.md)<br>"
        "&bull; <i>digits</i>: UCI \"Optical Recognition of Handwritten Digits\", "
        "E. Alpaydin and C. Kaynak, 1998, CC BY 4.0.<br>"
        "&bull; <i>cifar10-4k</i>: the first 4,000 images of CIFAR-10 (A. Krizhevsky, \"Learning "
        "Multiple Layers of Features from Tiny Images\", 2009, www.cs.toronto.edu/~kriz/cifar.html), "
        "from the sprite sheets of the ConvNetJS CIFAR-10 demo by Andrej Karpathy "
        "(github.com/karpathy/convnetjs).<br><br>"
        "CIFAR-10, MNIST and Fashion-MNIST can be downloaded on request.")

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Information, "About Backprop Studio", self.ABOUT_TEXT,
                          QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def set_scale(self, scale: float) -> None:
        """Every font, line and marker in every tab ``scale`` times its size (Ctrl+= / Ctrl+-)."""
        style.set_scale(scale)
        self._restyle()
        self.show_status(f"Scale {style.SCALE:.2f}×")

    def set_theme(self, name: str) -> None:
        """View > Theme: "dark" or "light", at once in every tab (remembered on closing)."""
        style.set_theme(name)
        self._restyle()
        self.show_status(f"{name.capitalize()} theme")

    def _restyle(self) -> None:
        """Hand gui.style's scale and theme to the application (fonts, palette, style sheet), the
        views (their restyle()), the plots of the labs and the backprop view (both follow
        style.notifier().changed, which style.apply emits)."""
        style.apply(QApplication.instance())
        for name, a in getattr(self, "theme_actions", {}).items():
            a.setChecked(name == style.THEME)
        for v in self.views:
            try:
                v.restyle()
            except Exception as e:  # a faulty view must not take the window down
                self.show_error(f"{type(v).__name__}.restyle failed: {e}")
        self._retheme_graphics()
        self._style_tab_bar()
        self._redraw(force=True)

    def _retheme_graphics(self) -> None:
        """Every pyqtgraph view in the window on the theme's background, its axes in the theme's
        colours (views that have no restyle(), or whose restyle() leaves them)."""
        import pyqtgraph as pg
        for gv in self.findChildren(pg.GraphicsView):
            gv.setBackground(style.BG)
            for it in gv.scene().items() if gv.scene() is not None else ():
                if isinstance(it, pg.AxisItem):   # (setPen recolours the label too: text last)
                    it.setPen(pg.mkPen(style.MUTED, width=max(1.0, style.SCALE)))
                    it.setTextPen(style.FG)

    #: tab titles short enough that all six tabs fit beside the docks at 1600×1000, also after
    #: one Ctrl+= (the full title is the tab's tooltip)
    SHORT_TAB_TITLES = {"Decision regions": "Regions", "Hidden units": "Units", "Weight templates": "Templates"}

    def _style_tab_bar(self) -> None:
        """Every tab title visible at 1600×1000 with the docks shown: short titles, and at larger
        scales titles are elided before the bar ever needs scroll arrows."""
        bar = self.tabs.tabBar()
        self.tabs.setUsesScrollButtons(False)
        self.tabs.setElideMode(Qt.ElideRight)
        bar.setExpanding(False)
        for i in range(self.tabs.count()):
            full = self.tabs.tabText(i)
            if full in self.SHORT_TAB_TITLES:
                self.tabs.setTabText(i, self.SHORT_TAB_TITLES[full])
                self.tabs.setTabToolTip(i, full)

    def restore_default_layout(self) -> None:
        if hasattr(self, "_default_state"):
            self._focus_state = None
            self.restoreState(self._default_state, SETTINGS_VERSION)
            for d in self.docks.values():
                d.show()

    # ================================================================== experiment files
    def save_experiment(self, path: str) -> Path | None:
        """Save the configuration, weights, statistics and history (engine.experiment's atomic save:
        a file that is not an experiment, or an input of the run, is never replaced). On failure a
        message says why, the files on disk are as they were, and None is returned."""
        c = self.controller
        if c.running:
            c.stop_and_wait()
        t = c.trainer
        try:
            out = save_experiment(path, experiment_of_run(self.cfg, t),
                                  protect=inputs_of(self.cfg.dataset, self._dataset_cfg))
        except ExperimentError as e:
            self.show_error(f"{e}\n\nNothing was saved.", title="Not saved")
            return None
        except Exception as e:  # a bug must not lose the window, nor be silent
            self.show_error(f"{path}: could not be saved ({type(e).__name__}: {e})\n\nNothing was saved.",
                            title="Not saved")
            return None
        self.show_status(f"Saved the experiment to {out}")
        return out

    def open_experiment(self, path: str) -> bool:
        """Open an experiment file: its configuration at once, its weights when its dataset has
        loaded. Any error is shown as a message and the current experiment stays as it was
        (also when its dataset cannot be loaded or its weights do not fit the model)."""
        try:
            exp = load_experiment(path)
        except (ExperimentError, ConfigError, DatasetError, OSError) as e:
            self.show_error(f"{e}\n\nThe current experiment stays.", title="Not opened")
            return False
        except Exception as e:  # a loader's bug: a message, not a traceback
            self.show_error(f"{path}: could not be opened ({type(e).__name__}: {e})\n\n"
                            "The current experiment stays.", title="Not opened")
            return False
        self.controller.stop_and_wait()
        previous = self._pending_open[2] if self._pending_open is not None else self.config()
        self._pending_open = (str(path), exp, previous)
        self.undo_stack.clear()
        self.config_model.replace(exp.config)     # its dataset loads; the weights follow (_on_loaded)
        return True

    def _show_saved_run(self, path: str, exp: Experiment) -> None:
        """An opened experiment's weights are in the model: show its saved run — the loss curves,
        step count and loss from its history (Train continues from there, Reset starts afresh)."""
        c = self.controller
        t = c.trainer
        t.compute_initial()
        hist, why = history_from_saved(exp.history)
        name = Path(path).name
        if hist is None or not hist.step:
            c.publish_now()
            self.show_status(f"Opened {name} with its trained weights" +
                             (f" (no curves: {why})" if why and exp.history else ""))
            return
        n = len(t.data.y_train)
        epochs = exp.results.get("epochs") if isinstance(exp.results, dict) else None
        if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or not 0 <= epochs < 1e9:
            epochs = hist.eval_epoch[-1] if hist.eval_epoch else hist.step[-1] * t.batch_size / n
        c.restore_run(hist, round(float(epochs) * n))
        loss = hist.loss[-1]
        text = f"Opened {name}: its saved run — step {t.steps:,}, loss {loss:.4f}"
        acc = exp.results.get("test_accuracy") if isinstance(exp.results, dict) else None
        if isinstance(acc, (int, float)) and not isinstance(acc, bool) and 0 <= acc <= 1:
            text += f", test accuracy {acc:.1%}"
        self.show_status(text + ". Train continues it; Reset starts afresh.")

    def _weights_problem(self, exp: Experiment, dataset) -> str:
        """Why ``exp``'s weights cannot be used with ``dataset`` ("" if they can), naming the file."""
        from engine.models import build_model
        try:
            model = build_model(dataset.num_features, dataset.num_classes, exp.config.model,
                                exp.config.loss, exp.config.seed)
            model.set_params(exp.weights)
        except ConfigError as e:
            return str(weights_mismatch(exp, e))
        except Exception as e:  # pragma: no cover - a model builder's bug
            return f"{exp.weights_file}: the saved weights cannot be used ({type(e).__name__}: {e})"
        return ""

    def _abandon_open(self, pending, problem: str) -> None:
        """The experiment being opened cannot be used: back to the previous configuration, whose
        dataset and network are still loaded."""
        self.undo_stack.clear()
        self.config_model.replace(pending[2], revert=True)
        self.dataset_panel.set_progress(0.0, "")
        if self.state.dataset is not None:
            self.dataset_panel.show_dataset(self.state.dataset)
        self.show_error(f"{problem}\n\nThe experiment {pending[0]} was not opened; the current one stays.",
                        title="Not opened")

    def save_experiment_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the experiment", self.settings.value("last_dir", ""),
                                              "Experiments (*.json)")
        if path and self.save_experiment(path) is not None:
            self.settings.setValue("last_dir", str(Path(path).parent))

    def open_experiment_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an experiment", self.settings.value("last_dir", ""),
                                              "Experiments (*.json)")
        if path and self.open_experiment(path):
            self.settings.setValue("last_dir", str(Path(path).parent))

    # ================================================================== export
    def export_view(self, path: str, kind: str) -> None:
        """The current tab as PNG or SVG (its plots, or the whole widget), or the curves as CSV."""
        view = self.tabs.currentWidget()
        if kind == "csv":
            export_text(path, self.state.history.to_csv())
            return
        item = view.export_item()
        if item is None:
            export_widget(view, path)
        else:
            export_plots(item, path)

    def export_dialog(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export as {kind.upper()}", "", KINDS[kind])
        if path:
            if not path.lower().endswith("." + kind):
                path += "." + kind
            try:
                self.export_view(path, kind)
                self.show_status(f"Exported {path}")
            except Exception as e:
                self.show_error(f"Could not export {path}: {e}")

    def export_torch(self, path: str):
        """The current experiment (its configuration, the model's current weights, the loaded
        dataset's arrays) as a standalone PyTorch script ``path`` and ``<stem>.data.npz`` beside it
        (engine.torch_export). Returns ``(script, data file)``, or None after a message."""
        from engine.torch_export import export_experiment
        c = self.controller
        if c.running:
            c.stop_and_wait()
        t = c.trainer
        if t is None:
            self.show_error("There is no model yet: load a dataset first.", title="Not exported")
            return None
        try:
            out = export_experiment(experiment_of_run(self.cfg, t), path, data=t.data,
                                    protect=inputs_of(self.cfg.dataset, self._dataset_cfg))
        except (ExperimentError, ConfigError, DatasetError) as e:
            self.show_error(f"{e}\n\nNothing was exported.", title="Not exported")
            return None
        except Exception as e:  # a bug must not lose the window, nor be silent
            self.show_error(f"{path}: could not be exported ({type(e).__name__}: {e})", title="Not exported")
            return None
        self.show_status(f"Exported {out[0]} and {out[1].name}: python {out[0].name} --print-losses")
        return out

    def export_torch_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export as PyTorch script", "", "Python scripts (*.py)")
        if path:
            if not path.lower().endswith(".py"):
                path += ".py"
            self.export_torch(path)

    # ================================================================== settings
    def _restore_settings(self) -> None:
        s = self.settings
        self._default_state = self.saveState(SETTINGS_VERSION)
        if s.value("version", 0, type=int) != SETTINGS_VERSION:
            self.resize(1600, 1000)
            return
        geo = s.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1600, 1000)
        st = s.value("state")
        if st is not None:
            self.restoreState(st, SETTINGS_VERSION)
        self._restore_look(s)
        if s.value("practice", False, type=bool):     # the class was practising backprop
            self.backprop_view.set_practice(True)
        text = s.value("config", "")
        if text:
            try:
                restored = ExperimentConfig.from_dict(json.loads(text))
            except (ValueError, ConfigError):
                restored = default_config()
            self.config_model.replace(restored, revert=True)   # (loaded at the end of __init__)
        tab = s.value("tab", 0, type=int)
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def _restore_look(self, s) -> None:
        """The remembered theme and scale (a value that is not one is ignored)."""
        theme = s.value("theme", "dark")
        theme = theme if theme in style.THEMES else "dark"
        try:
            scale = float(s.value("scale", 1.0))
        except (TypeError, ValueError):
            scale = style.SCALE
        if theme != style.THEME or abs(max(style.MIN_SCALE, min(style.MAX_SCALE, scale)) - style.SCALE) > 1e-6:
            style.set_theme(theme)
            style.set_scale(scale)
            self._restyle()

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("version", SETTINGS_VERSION)
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self._focus_state if self._focus_state is not None else self.saveState(SETTINGS_VERSION))
        s.setValue("config", json.dumps(self.cfg.to_dict()))
        s.setValue("scale", style.SCALE)
        s.setValue("theme", style.THEME)
        s.setValue("practice", self.backprop_view.practice)
        s.setValue("tab", self.tabs.currentIndex())
        s.sync()

    def _space_key(self) -> None:
        """Space: train / pause — or, on the Backprop tab, play / pause the walkthrough."""
        if self.tabs.currentWidget() is self.backprop_view:
            self.backprop_view.toggle_play()
        else:
            self.toggle_training()

    def _right_key(self) -> None:
        """Right: one minibatch step — or, on the Backprop tab, the walkthrough's next step."""
        if self.tabs.currentWidget() is self.backprop_view:
            self.backprop_view.step_forward()
        else:
            self.step_once()

    def open_walkthrough_dialog(self) -> None:
        """File > Open walkthrough: a walkthrough file from anywhere, shown in the Backprop tab."""
        self.tabs.setCurrentWidget(self.backprop_view)
        self.backprop_view.open_walkthrough_dialog()

    def open_walkthrough(self, path) -> bool:
        self.tabs.setCurrentWidget(self.backprop_view)
        return self.backprop_view.open_walkthrough(path)

    # ================================================================== closing
    def closeEvent(self, ev) -> None:
        self._closing = True
        self.timer.stop()
        self.controller.stop_and_wait()
        for w in self.views:
            try:
                w.shutdown()
            except Exception:   # closing goes on
                pass
        self.pool.waitForDone(5000)
        try:
            self._save_settings()
        except Exception:  # settings are a convenience; never block closing
            pass
        super().closeEvent(ev)
