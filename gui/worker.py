"""The training worker: a QObject moved to a QThread, driving ``Trainer.step()`` in a loop.

Protocol:

* the worker is created without a parent and moved to its own QThread; its ``run`` loop never
  returns to the thread's event loop until it is done, so control does not go through slots:
  ``stop`` is a :class:`threading.Event` checked between steps, and hyperparameter changes made
  mid-run arrive through a :class:`queue.Queue` drained at every step boundary;
* at most ~30 times a second it publishes a frozen :class:`Snapshot` carrying its run id, the
  step, the *new* history entries since the previous snapshot and *copies* of the parameters
  (plus the decision-region scores on a grid for 2-D data), so the GUI never touches arrays the
  worker is still writing;
* exceptions are caught and reported through ``failed`` (never swallowed); divergence ends the
  loop and is reported in the final snapshot.
"""
from __future__ import annotations

import queue
import threading
import traceback

from PySide6.QtCore import QObject, Signal

from engine import runloop
from engine.trainer import Trainer

from . import training_host
from .snapshots import PUBLISH_INTERVAL, SnapshotMaker


class TrainingWorker(QObject):
    """Runs ``trainer.step()`` until stopped, the epochs are done or the loss diverges."""

    published = Signal(object)   # Snapshot
    failed = Signal(str)         # message with traceback
    done = Signal()

    def __init__(self, trainer: Trainer, maker: SnapshotMaker, settings: "queue.Queue",
                 stop: threading.Event, frame_lock=None, publish_interval: float = PUBLISH_INTERVAL):
        super().__init__()   # no parent: it is moved to its own thread
        self.trainer = trainer
        self.maker = maker
        self.settings = settings
        self.stop_event = stop
        self.publish_interval = publish_interval
        self.frame_lock = frame_lock if frame_lock is not None else threading.Lock()

    def drain_settings(self) -> None:
        runloop.drain_settings(self.settings, self.trainer)

    def _check(self) -> bool:
        """Between steps: stop asked for? (if not, the live settings that arrived take effect)"""
        if self.stop_event.is_set():
            return True
        self.drain_settings()
        return False

    def run(self) -> None:
        try:
            end = runloop.run(self.trainer, check=self._check, step_lock=self.frame_lock,
                              publish=lambda sps: self.published.emit(self.maker.make(running=True, sps=sps)),
                              publish_interval=self.publish_interval)
            self.drain_settings()
            self.published.emit(self.maker.make(running=False, sps=end.steps_per_sec, finished=end.finished))
        except Exception as e:  # shown to the user by the window
            self.failed.emit(f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}")
        finally:
            self.done.emit()


class ProcessTrainingWorker(QObject):
    """The same protocol as :class:`TrainingWorker`, with the steps run in the training process.

    Training a small network is pure-Python-heavy; in a thread it competes with every redraw for
    the GIL.  This worker's thread only relays: it hands the trainer's state to the
    :class:`~gui.training_host.TrainingHost`, forwards live settings and stop, re-emits the
    snapshots the process publishes (adding the decision regions of their weights while that
    view is shown, so the training process's core never computes them), and when the process
    stops it loads the final state back into ``trainer`` — so between runs the GUI thread owns
    an up-to-date trainer as before.
    """

    published = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, host: "training_host.TrainingHost", trainer: Trainer, maker: SnapshotMaker,
                 settings: "queue.Queue", stop: threading.Event, publish_interval: float = PUBLISH_INTERVAL):
        super().__init__()
        self.host = host
        self.trainer = trainer
        self.maker = maker
        self.settings = settings
        self.stop_event = stop
        self.publish_interval = publish_interval

    def run(self) -> None:
        host, t = self.host, self.trainer
        try:
            host.start_run(t, self.maker.run_id, self.publish_interval)
            stop_sent = False
            while True:
                if self.stop_event.is_set() and not stop_sent:
                    host.send(("stop",))
                    stop_sent = True
                while True:
                    try:
                        host.send(("set",) + self.settings.get_nowait())
                    except queue.Empty:
                        break
                msg = host.receive(timeout=0.02)
                if msg is None:
                    continue
                kind = msg[0]
                if kind == "snap":
                    # a newer snapshot already waiting will carry the regions: none for this one
                    snap = msg[1] if host.pending() else self.maker.with_grid(msg[1])
                    self.published.emit(snap)
                elif kind == "stopped":
                    t.load_state_dict(msg[2])
                    self.maker.sync_sent()
                    self.published.emit(self.maker.with_grid(msg[1]))
                    break
                elif kind == "error":
                    self.failed.emit(msg[1])
                    break
        except training_host.HostError as e:
            self.failed.emit(str(e))
        except Exception as e:  # shown to the user by the window
            self.failed.emit(f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}")
        finally:
            self.done.emit()
