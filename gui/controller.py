"""The GUI-thread side of training: owns the Trainer between runs and the worker thread during one.

While no worker runs, the trainer belongs to the GUI thread (Step and Reset call it directly —
cheap, one minibatch).  While a worker runs, the GUI thread never touches the trainer: live
changes go into the settings queue, stop is an Event, and results arrive as Snapshots.
"""
from __future__ import annotations

import dataclasses
import math
import queue
import threading


from PySide6.QtCore import QObject, Qt, QThread, Signal

from engine.config import ExperimentConfig
from engine.datasets import Dataset
from engine.models import Network
from engine.runloop import drain_settings
from engine.trainer import LIVE_SETTINGS, History, Trainer, apply_setting

from . import training_host
from .snapshots import SnapshotMaker
from .worker import ProcessTrainingWorker, TrainingWorker


HANDOVER_NOTICE = 50_000_000   # bytes of dataset to hand to the training process before saying so


MAX_SAVED_STEPS = 10_000_000


def history_from_saved(saved) -> tuple[History | None, str]:
    """The :class:`History` an experiment file holds (``Experiment.history``), or ``(None, why)``:
    every field a list of finite-or-NaN numbers, the per-step ones as long as ``step`` and the
    per-epoch ones as long as ``eval_step``, steps increasing."""
    if not isinstance(saved, dict) or not saved:
        return None, "it holds no training history"
    fields = History.__dataclass_fields__
    unknown = sorted(set(saved) - set(fields))
    if unknown:
        return None, f"its history has an unknown field {str(unknown[0])[:40]!r}"
    out = {}
    for name in fields:
        values = saved.get(name, [])
        if not isinstance(values, list) or len(values) > MAX_SAVED_STEPS:
            return None, f"its history's {name} is not a list of numbers"
        for v in values:
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                return None, f"its history's {name} holds {str(v)[:20]!r}, not a number"
        # (a file keeps a NaN/infinite loss as null)
        out[name] = [math.nan if v is None else v for v in values]
    steps = ("step", "loss", "data_loss", "reg_loss", "lr")
    evals = ("eval_step", "eval_epoch", "train_loss", "train_acc", "val_loss", "val_acc")
    for group in (steps, evals):
        if len({len(out[k]) for k in group}) != 1:
            return None, f"its history's {', '.join(group)} differ in length"
    for key in ("step", "eval_step"):
        seq = out[key]
        if any(not (isinstance(a, int) or math.isfinite(a) and float(a).is_integer()) or a < 1 for a in seq) or \
                any(b <= a for a, b in zip(seq, seq[1:])):
            return None, f"its history's {key} is not a rising count of steps"
        out[key] = [int(a) for a in seq]
    if out["eval_step"] and out["step"] and out["eval_step"][-1] > out["step"][-1]:
        return None, "its history evaluates steps it never took"
    return History(**out), ""


class TrainingController(QObject):
    snapshot = Signal(object)        # worker.Snapshot (also for Step / Reset / rebuild)
    running_changed = Signal(bool)
    failed = Signal(str)
    reset_done = Signal()            # the history was cleared (new run id)
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.trainer: Trainer | None = None
        self.dataset: Dataset | None = None
        self.run_id = 0
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._stop = threading.Event()
        self.frame_lock = threading.Lock()   # held by the GUI thread while it draws a frame
        self._settings: queue.Queue = queue.Queue()
        self._handover_notice = False
        self._maker: SnapshotMaker | None = None
        self._wishes: tuple[bool, bool] | None = None   # (grid, predictions): see want()
        # start the training process now, so it is ready by the time Space is pressed
        self._host = training_host.get_host()

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        return self._thread is not None

    def model_snapshot(self) -> Network | None:
        """A copy of the network, safe to use on the GUI thread."""
        if self.trainer is None:
            return None
        m = self.trainer.model
        if self.running:
            params = self._last_params
        else:
            params = m.copy_params()
        if params is None:
            params = m.copy_params()
        return Network(m.input_dim, m.num_classes, m.model_cfg, m.loss_cfg, params=params)

    _last_params = None

    # ------------------------------------------------------------------ building
    def build(self, cfg: ExperimentConfig, dataset: Dataset) -> None:
        """A fresh trainer for ``cfg`` on ``dataset`` (stops a run first). Raises ConfigError."""
        self.stop_and_wait()
        cfg = cfg.copy()
        trainer = Trainer.from_config(cfg, dataset)
        self.trainer, self.dataset = trainer, dataset
        self._new_run()

    def _new_run(self, replay: bool = False) -> None:
        """A new run id (older snapshots are ignored), the views' history cleared; ``replay``: the
        first snapshot carries the trainer's whole history (a saved run being shown)."""
        self.run_id += 1
        self._maker = SnapshotMaker(self.trainer, self.run_id)
        self._apply_wishes()
        if replay:
            self._maker.sent_steps = self._maker.sent_evals = 0
        self._last_params = None
        self.reset_done.emit()
        self.publish_now()

    def want(self, *, grid: bool, predictions: bool) -> None:
        """Which extras the snapshots carry: the decision-region grid and the live predictions cost
        time on the relay thread, so they are made only while a view that shows them is shown."""
        self._wishes = (grid, predictions)
        self._apply_wishes()

    def _apply_wishes(self) -> None:
        m, wishes = self._maker, self._wishes
        if m is None or wishes is None:
            return
        for event, on in zip((m.want_grid, m.want_preds), wishes):
            if on:
                event.set()
            else:
                event.clear()

    def restore_run(self, history: History, samples_seen: int) -> None:
        """Show a saved run (an opened experiment): its history, step count and epochs, with the
        weights already in the model.  Train continues from there; Reset starts afresh."""
        self.stop_and_wait()
        t = self.trainer
        if t is None:
            return
        t.restore_history(history, samples_seen)
        self._new_run(replay=True)

    def publish_now(self) -> None:
        if self.trainer is not None and not self.running:
            s = self._maker.make(running=False, sps=0.0)
            if s.step == 0 and not math.isfinite(s.loss):
                # step 0 has no minibatch loss yet: the loss of the weights before any update
                s = dataclasses.replace(s, loss=float(self.trainer.initial[0]))
            self._last_params = s.params
            self.snapshot.emit(s)

    # ------------------------------------------------------------------ commands
    def start(self) -> None:
        if self.running or self.trainer is None:
            return
        if self.trainer.diverged:
            self.failed.emit("diverged:" + self.trainer.reason)
            return
        t = self.trainer
        self._drain()
        if t.budget_spent:
            self.message.emit(f"The {t.cfg.optim.epochs} epochs are done: raise Epochs, tick "
                              "'until stopped', or Reset to train again.")
            return
        self._stop.clear()
        thread = QThread()
        host = self._host if self._host is not None and self._host.alive else training_host.get_host()
        self._host = host
        if host is not None and host.data_to_send(t) >= HANDOVER_NOTICE:
            self.message.emit(f"Handing {host.data_to_send(t) / 1e6:,.0f} MB of data to the training "
                              "process; training starts when it is there…")
            self._handover_notice = True
        if host is not None:
            worker = ProcessTrainingWorker(host, self.trainer, self._maker, self._settings, self._stop)
        else:
            if training_host.start_error:
                self.message.emit("The training process could not start "
                                  f"({training_host.start_error}); training runs in a thread of the "
                                  "window instead, several times slower.")
            worker = TrainingWorker(self.trainer, self._maker, self._settings, self._stop, self.frame_lock)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.published.connect(self._on_published)
        worker.failed.connect(self.failed)
        worker.done.connect(thread.quit, Qt.DirectConnection)  # the GUI thread may be in wait()
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        self._stop.set()

    def stop_and_wait(self) -> None:
        """Stop a run and wait for the thread (one step at most); never terminate()."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.wait()
        self._finish(self._thread)

    def step(self) -> None:
        """Exactly one trainer.step() (only while paused)."""
        if self.running or self.trainer is None:
            return
        self._drain()
        self.trainer.step()
        self.publish_now()

    def reset(self, seed: int | None = None) -> None:
        was = self.running
        self.stop_and_wait()
        if self.trainer is None:
            return
        self._drain()
        self.trainer.reset(seed)
        self._new_run()
        if was:
            pass  # reset pauses: the lecturer restarts with Space

    def set_live(self, name: str, value) -> None:
        """One of :data:`engine.trainer.LIVE_SETTINGS` (lr, reg_strength, batch_size, epochs,
        schedule…): mid-run without reset."""
        assert name in LIVE_SETTINGS, name
        if self.trainer is None:
            return
        if self.running:
            self._settings.put((name, value))
        else:
            self._drain()
            apply_setting(self.trainer, name, value)

    def _drain(self) -> None:
        drain_settings(self._settings, self.trainer)

    # ------------------------------------------------------------------ worker signals
    def _on_published(self, snap) -> None:
        if snap.run_id != self.run_id:
            return  # stale: from before a reset / rebuild
        if self._handover_notice:
            self._handover_notice = False
            self.message.emit("")
        self._last_params = snap.params
        self.snapshot.emit(snap)

    def _on_thread_finished(self) -> None:
        self._finish(self.sender())

    def _finish(self, thread) -> None:
        """Clean up after the run on ``thread``.  stop_and_wait() does it at once; the thread's
        queued finished signal comes later, maybe when a new run has started (a rebuild mid-run
        stops and starts in one turn): that one is not the current run's and is ignored."""
        if thread is None or thread is not self._thread:
            return
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread.isRunning():
            thread.wait()
        # deliver what the worker queued before finishing (the final snapshot) is handled by Qt;
        worker.deleteLater()
        thread.deleteLater()
        if self.trainer is not None:
            self._drain()
        self.running_changed.emit(False)
