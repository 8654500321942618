"""The training run loop: the one loop the command line (``Trainer.fit``), the window's training
thread (``gui.worker.TrainingWorker``) and the training process (``gui.training_host``) run.

A run calls ``trainer.step()`` until it is told to stop, its goal is reached (by default the
configured epochs: :attr:`Trainer.budget_spent`) or the loss diverges.  What differs between
those callers is passed in as small hooks, each optional:

- ``check()`` — before a step, at most every ``check_interval`` seconds: apply what arrived
  (live settings, commands) and return True to stop the run;
- ``on_step(result)`` — after every step, with its :class:`~engine.trainer.StepResult`;
- ``publish(steps_per_sec)`` — after a step, at most every ``publish_interval`` seconds, and only
  when ``ready()`` says the previous publication is out;
- ``between_steps()`` — after every step (a benchmark's schedule, see :func:`load_hook`);
- ``step_lock`` — a lock held around each step.

The caller publishes the run's final state itself, from the :class:`RunEnd` returned.
"""
from __future__ import annotations

import importlib
import queue
import time
from dataclasses import dataclass
from typing import Any, Callable

RATE_WINDOW = 0.5     # steps per second are measured over at least this many seconds


@dataclass(frozen=True)
class RunEnd:
    """Why a run ended: ``"stopped"`` (asked to), ``"finished"`` (its goal reached: the epoch
    budget) or ``"diverged"``; and the last measured steps per second."""
    why: str
    steps_per_sec: float = 0.0

    @property
    def finished(self) -> bool:
        return self.why == "finished"


def run(trainer, *, done: Callable[[], bool] | None = None,
        check: Callable[[], bool] | None = None, check_interval: float = 0.0,
        on_step: Callable[[Any], None] | None = None,
        publish: Callable[[float], None] | None = None, publish_interval: float = 0.0,
        ready: Callable[[], bool] | None = None,
        between_steps: Callable[[], None] | None = None, step_lock=None) -> RunEnd:
    """Step ``trainer`` until stopped, ``done()`` (default: ``trainer.budget_spent``) or diverged.
    See the module's docstring for the hooks."""
    if trainer.diverged:
        return RunEnd("diverged")
    if done is None:
        def done():
            return trainer.budget_spent
    now = time.perf_counter()
    last_check = now - check_interval
    last_pub = rate_t = now
    rate_steps, sps = trainer.steps, 0.0
    step = trainer.step
    while True:
        if check is not None:
            now = time.perf_counter()
            if now - last_check >= check_interval:
                last_check = now
                if check():
                    return RunEnd("stopped", sps)
        if done():
            return RunEnd("finished", sps)
        if step_lock is not None:
            with step_lock:      # e.g. waits (without the GIL) while the window draws a frame
                r = step()
        else:
            r = step()
        if on_step is not None:
            on_step(r)
        if r.diverged:
            return RunEnd("diverged", sps)
        if publish is not None:
            now = time.perf_counter()
            if now - last_pub >= publish_interval and (ready is None or ready()):
                if now - rate_t >= RATE_WINDOW:
                    sps = (trainer.steps - rate_steps) / (now - rate_t)
                    rate_t, rate_steps = now, trainer.steps
                publish(sps)
                last_pub = now
        if between_steps is not None:
            between_steps()


def drain_settings(settings: "queue.Queue", trainer) -> None:
    """Apply every queued live setting ``(name, value)`` to ``trainer``, oldest first
    (:data:`engine.trainer.LIVE_SETTINGS`)."""
    from .trainer import apply_setting
    while True:
        try:
            name, value = settings.get_nowait()
        except queue.Empty:
            return
        apply_setting(trainer, name, value)


def load_hook(spec: tuple[str, dict] | None, trainer):
    """A ``between_steps`` hook from an importable name, so that it can be named to another
    process (the training process is spawned): ``spec`` is ``("module:factory", kwargs)``;
    ``factory(trainer, **kwargs)`` returns the callable run between steps, which may have a
    ``close()`` that the run calls when it ends.  ``None`` gives ``None``."""
    if spec is None:
        return None
    name, kwargs = spec
    module, _, attr = name.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    return factory(trainer, **kwargs)


def close_hook(hook) -> None:
    close = getattr(hook, "close", None)
    if close is not None:
        close()
