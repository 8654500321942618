"""Dataset loading as a job for the window's :class:`gui.jobs.JobRunner` (off the GUI thread,
with progress, the dataset or the error delivered on the GUI thread)."""
from __future__ import annotations

import traceback

from engine.datasets import DatasetError, load_dataset


def load_job(cfg):
    """``fn(job)`` for a JobRunner: ``cfg``'s dataset, loaded with progress reports."""
    return lambda job: load_dataset(cfg, progress=lambda f, m="": job.progress(float(f), str(m)))


def describe_load_error(exc: BaseException) -> str:
    """A dataset's own error in its words; an unexpected failure with its traceback."""
    if isinstance(exc, DatasetError):
        return str(exc)
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{type(exc).__name__}: {exc}\n\n{tb}"
