"""Dataset loading off the GUI thread (QThreadPool), with progress and errors as signals."""
from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QRunnable, Signal

from engine.datasets import DatasetError, load_dataset


class LoadSignals(QObject):
    progress = Signal(int, float, str)      # job id, fraction, message
    loaded = Signal(int, object, object)    # job id, DatasetConfig, Dataset
    failed = Signal(int, object, str)       # job id, DatasetConfig, message


class DatasetJob(QRunnable):
    def __init__(self, job_id: int, cfg):
        super().__init__()
        self.job_id, self.cfg = job_id, cfg
        self.signals = LoadSignals()
        self.setAutoDelete(True)

    def run(self) -> None:
        s = self.signals
        try:
            d = load_dataset(self.cfg, progress=lambda f, m="": s.progress.emit(self.job_id, float(f), str(m)))
        except DatasetError as e:
            s.failed.emit(self.job_id, self.cfg, str(e))
        except Exception as e:  # an unexpected failure is still shown, with its traceback
            s.failed.emit(self.job_id, self.cfg, f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}")
        else:
            s.loaded.emit(self.job_id, self.cfg, d)
