"""The job queue: typed outcomes, batches and progress on the GUI thread, cancel, latest wins."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from photofinder.core.errors import PhotoFinderError
from photofinder.core.progress import Progress
from photofinder.gui.jobs import JobContext, JobQueue, StreamContext
from photofinder.gui.threads import running_threads


@pytest.fixture
def queue() -> Iterator[JobQueue]:
    jobs = JobQueue("photofinder-test-jobs")
    yield jobs
    jobs.shutdown()
    jobs.deleteLater()


def on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_the_result_arrives_on_the_gui_thread(qtbot: QtBot, queue: JobQueue) -> None:
    worker_threads: list[bool] = []
    results: list[tuple[int, bool]] = []

    def work(_context: JobContext) -> int:
        worker_threads.append(on_gui_thread())
        return 42

    queue.submit(work, lambda value: results.append((value, on_gui_thread())))
    qtbot.waitUntil(lambda: bool(results))
    assert worker_threads == [False] and results == [(42, True)]
    assert not queue.busy


def test_partial_results_come_in_batches_before_the_outcome(
    qtbot: QtBot, queue: JobQueue
) -> None:
    batches: list[list[int]] = []
    outcome: list[str] = []

    def work(context: StreamContext[int]) -> str:
        for number in range(100):
            context.put(number)
        return "all sent"

    def done(text: str) -> None:
        outcome.append(text)
        assert sum(len(b) for b in batches) == 100  # every batch came first

    queue.stream(work, batches.append, done, batch_size=10)
    qtbot.waitUntil(lambda: bool(outcome))
    assert [n for batch in batches for n in batch] == list(range(100))
    assert all(len(batch) <= 10 for batch in batches) and len(batches) >= 10


def test_progress_keeps_every_stage_and_the_last_step(qtbot: QtBot, queue: JobQueue) -> None:
    seen: list[Progress] = []
    finished: list[None] = []

    def work(context: JobContext) -> None:
        for stage in ("scanning", "indexing"):
            for done in range(1, 501):
                context.progress(Progress(stage, done, 500))

    queue.submit(work, finished.append, progress=seen.append)
    qtbot.waitUntil(lambda: bool(finished))
    assert [p.stage for p in seen if p.done == 1] == ["scanning", "indexing"]
    assert [p.done for p in seen if p.done == 500] == [500, 500]
    assert len(seen) < 1000  # throttled


def test_an_unexpected_error_is_a_plain_sentence(qtbot: QtBot, queue: JobQueue) -> None:
    messages: list[str] = []

    def broken(_context: JobContext) -> None:
        raise ValueError("internal detail")

    queue.submit(broken, failed=messages.append, what="Sorting")
    qtbot.waitUntil(lambda: bool(messages))
    assert messages[0].startswith("Sorting failed: an unexpected error (ValueError)")
    assert "internal detail" not in messages[0] and "ValueError(" not in messages[0]


def test_a_library_error_keeps_its_own_text(qtbot: QtBot, queue: JobQueue) -> None:
    messages: list[str] = []

    def refused(_context: JobContext) -> None:
        raise PhotoFinderError("the folder is gone")

    queue.submit(refused, failed=messages.append)
    qtbot.waitUntil(lambda: bool(messages))
    assert messages == ["the folder is gone"]


def test_cancel_stops_the_work_at_its_checkpoint(qtbot: QtBot, queue: JobQueue) -> None:
    started = threading.Event()
    outcome: list[str] = []

    def endless(context: JobContext) -> None:
        started.set()
        while True:
            context.checkpoint()

    job = queue.submit(endless, lambda _: outcome.append("done"),
                       failed=outcome.append, cancelled=lambda: outcome.append("cancelled"))
    assert started.wait(10)
    job.cancel()
    qtbot.waitUntil(lambda: bool(outcome))
    assert outcome == ["cancelled"] and job.finished


def test_latest_wins_discards_the_running_and_the_waiting_jobs(qtbot: QtBot) -> None:
    queue = JobQueue("photofinder-test-latest", latest_wins=True)
    first_started, gate = threading.Event(), threading.Event()
    ran: list[str] = []
    delivered: list[str] = []

    def work(name: str) -> str:
        if name == "first":
            first_started.set()
            gate.wait(10)
        ran.append(name)
        return name

    def job(name: str) -> Callable[[JobContext], str]:
        return lambda _context: work(name)

    queue.submit(job("first"), delivered.append)
    assert first_started.wait(10)
    for name in ("second", "third"):
        queue.submit(job(name), delivered.append)
    gate.set()
    qtbot.waitUntil(lambda: not queue.busy)
    assert delivered == ["third"]
    assert ran == ["first", "third"]  # "second" was superseded before it started
    queue.shutdown()
    queue.deleteLater()


def test_shutdown_waits_for_the_running_job(queue: JobQueue) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(_context: JobContext) -> None:
        started.set()
        release.wait(10)

    queue.submit(slow)
    assert started.wait(10)
    assert queue.name in running_threads()
    assert not queue.shutdown(timeout_ms=50)  # still running: not stopped
    release.set()
    assert queue.shutdown()
    assert queue.name not in running_threads()
    assert not queue.busy
