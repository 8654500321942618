"""bench_gui's quiet schedule: a between-steps hook it injects into the training process's runs
(``TrainingHost.between_steps``, see :func:`engine.runloop.load_hook`).

The run alternates ``on`` seconds of its usual loop (reading the pipe, publishing snapshots; the
window draws them) with ``off`` seconds of a plain ``trainer.step()`` loop that publishes nothing
(the window idles) — headless training in the same process, on the same weights, a fraction of a
second from the window's steps it is compared with.  Each phase is logged with its
``time.perf_counter()`` bounds (the system-wide monotonic clock, so the window process can place
them) and step counts; when the run ends the log is written to the JSON file ``log`` as
``[[kind, t0, t1, steps0, steps1], ...]`` (kind ``"window"`` or ``"quiet"``).
"""
from __future__ import annotations

import json
import time


class QuietSchedule:
    def __init__(self, trainer, on: float, off: float, log: str):
        self.trainer, self.on, self.off, self.log = trainer, on, off, log
        self.phases: list[tuple] = []
        self.phase_t, self.phase_n = time.perf_counter(), trainer.steps

    def __call__(self) -> None:
        t = self.trainer
        now = time.perf_counter()
        if now - self.phase_t < self.on:
            return
        self.phases.append(("window", self.phase_t, now, self.phase_n, t.steps))
        t0, n0 = time.perf_counter(), t.steps
        while time.perf_counter() - t0 < self.off:
            if t.step().diverged or t.budget_spent:
                break
        self.phase_t, self.phase_n = time.perf_counter(), t.steps
        self.phases.append(("quiet", t0, self.phase_t, n0, self.phase_n))

    def close(self) -> None:
        self.phases.append(("window", self.phase_t, time.perf_counter(), self.phase_n, self.trainer.steps))
        with open(self.log, "w", encoding="utf-8") as f:
            json.dump(self.phases, f)


def read_log(path: str) -> list[tuple]:
    """The phases a :class:`QuietSchedule` wrote."""
    with open(path, encoding="utf-8") as f:
        return [tuple(p) for p in json.load(f)]
