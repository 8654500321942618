"""gui.jobs.JobRunner, the GUI's one background-job runner (the labs and the dataset loader):
results, errors and progress arrive on the GUI thread; a new job supersedes the previous one."""
import threading

import pytest

pytest.importorskip("pytestqt")

from gui.jobs import JobRunner  # noqa: E402


def test_result_progress_and_error_arrive_on_the_gui_thread(qtbot):
    r = JobRunner()
    main = threading.get_ident()
    seen = []
    r.progress.connect(lambda f, m: seen.append(("progress", f, m, threading.get_ident() == main)))
    r.finished.connect(lambda v: seen.append(("finished", v, threading.get_ident() == main)))

    def work(job):
        assert threading.get_ident() != main
        job.progress(0.5, "half")
        return 42

    with qtbot.waitSignal(r.finished, timeout=5000):
        job = r.start(work)
        assert job.done.wait(5) and r.busy and not r.running   # computed, not delivered yet: busy
    assert not r.busy
    assert seen == [("progress", 0.5, "half", True), ("finished", 42, True)]

    with qtbot.waitSignal(r.failed, timeout=5000) as sig:
        r.start(lambda job: 1 / 0)
    assert sig.args == ["ZeroDivisionError: division by zero"]
    named = JobRunner(describe=lambda e: f"could not: {e}")
    with qtbot.waitSignal(named.failed, timeout=5000) as sig:
        named.start(lambda job: int("x"))
    assert sig.args[0].startswith("could not: invalid literal")


def test_a_new_job_supersedes_the_previous(qtbot):
    r = JobRunner()
    got, failed = [], []
    r.finished.connect(got.append)
    r.failed.connect(failed.append)
    release = threading.Event()

    def slow(job):
        release.wait(5)
        while not job.cancelled:
            pass
        return "old"

    first = r.start(slow)
    with qtbot.waitSignal(r.finished, timeout=5000):
        r.start(lambda job: "new")
        release.set()
    assert first.cancelled
    assert first.done.wait(5)
    qtbot.wait(50)                       # the old job's outcome would have arrived by now
    assert got == ["new"] and failed == [] and not r.busy and not r.running


def test_now_runs_on_this_thread_and_delivers_before_returning(qtbot):
    r = JobRunner()
    got = []
    r.finished.connect(got.append)
    r.start(lambda job: threading.get_ident(), now=True)
    assert got == [threading.get_ident()] and not r.busy
