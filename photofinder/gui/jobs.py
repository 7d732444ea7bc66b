"""The GUI's one way to run background work: jobs on a queue's own thread pool, their progress,
partial results (in batches) and typed outcome delivered on the GUI thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from photofinder.core.errors import PhotoFinderError
from photofinder.core.messages import plain_error
from photofinder.core.progress import Cancelled, CancelToken, Progress
from photofinder.gui.threads import register_pool

log = logging.getLogger(__name__)
T = TypeVar("T")
B = TypeVar("B")
PROGRESS_INTERVAL_S = 0.1  # progress reaches the GUI at most ten times a second...
BATCH_INTERVAL_S = 0.1  # ...and partial results at least this often while they come in
BATCH_SIZE = 24  # or as soon as this many are in hand


class _Kind(Enum):
    PROGRESS = "progress"
    BATCH = "batch"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = {_Kind.DONE, _Kind.FAILED, _Kind.CANCELLED}


@dataclass(frozen=True)
class _Event:
    job: Job[Any]
    kind: _Kind
    payload: object = None


class Job(Generic[T]):
    """One submitted piece of work: cancel it (the work stops at its next checkpoint and its
    outcome is still delivered) or discard it (nothing more of it reaches the GUI)."""

    def __init__(self, number: int, token: CancelToken, what: str | None) -> None:
        self.number = number
        self.token = token
        self.what = what
        self.discarded = False
        self.finished = False  # its outcome has been delivered (or it was dropped at shutdown)
        self.on_done: Callable[[T], None] | None = None
        self.on_failed: Callable[[str], None] | None = None
        self.on_cancelled: Callable[[], None] | None = None
        self.on_progress: Callable[[Progress], None] | None = None
        self.on_batch: Callable[[list[Any]], None] | None = None

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def cancel(self) -> None:
        """Ask the work to stop; what it returns (or its `Cancelled`) is still delivered."""
        self.token.cancel()

    def discard(self) -> None:
        """Cancel and forget: no progress, batch or outcome of this job is delivered any more."""
        self.discarded = True
        self.token.cancel()


class JobContext:
    """What running work is handed: its cancel token and a throttled progress report."""

    def __init__(self, job: Job[Any], post: Callable[[_Event], None]) -> None:
        self._job = job
        self._post = post
        self._last_progress = 0.0
        self._last_stage: str | None = None

    @property
    def token(self) -> CancelToken:
        return self._job.token

    def checkpoint(self) -> None:
        """Wait while paused; raise `Cancelled` once cancelled."""
        self._job.token.checkpoint()

    def progress(self, progress: Progress) -> None:
        """Report progress: a new stage and the last step always get through, the rest at most
        ten times a second."""
        now = time.monotonic()
        final = progress.total > 0 and progress.done >= progress.total
        due = now - self._last_progress >= PROGRESS_INTERVAL_S
        if progress.stage != self._last_stage or final or due:
            self._last_progress, self._last_stage = now, progress.stage
            self._post(_Event(self._job, _Kind.PROGRESS, progress))


class StreamContext(JobContext, Generic[B]):
    """A job context that also hands partial results to the GUI, in batches."""

    def __init__(self, job: Job[Any], post: Callable[[_Event], None], batch_size: int) -> None:
        super().__init__(job, post)
        self._batch_size = batch_size
        self._batch: list[B] = []
        self._batch_started = time.monotonic()

    def put(self, item: B) -> None:
        """One partial result; sent on once the batch is full or has waited long enough."""
        self._batch.append(item)
        full = len(self._batch) >= self._batch_size
        if full or time.monotonic() - self._batch_started >= BATCH_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self._post(_Event(self._job, _Kind.BATCH, batch))
        self._batch_started = time.monotonic()


class _Runnable(QRunnable):
    """Runs one job's work on a pool thread and posts its outcome."""

    def __init__(
        self, job: Job[Any], context: JobContext, work: Callable[[Any], object],
        post: Callable[[_Event], None],
    ) -> None:
        super().__init__()
        self._job, self._context, self._work, self._post = job, context, work, post

    def run(self) -> None:
        job = self._job
        if job.discarded:  # superseded while it waited for the thread
            self._post(_Event(job, _Kind.CANCELLED))
            return
        try:
            result = self._work(self._context)
        except Cancelled:
            event = _Event(job, _Kind.CANCELLED)
        except PhotoFinderError as exc:
            event = _Event(job, _Kind.FAILED, plain_error(exc))
        except Exception as exc:  # a bug or an OS error: say it plainly, keep the app alive
            log.exception("%s failed", job.what or "a background job")
            reason = plain_error(exc)
            event = _Event(job, _Kind.FAILED, f"{job.what} failed: {reason}" if job.what
                           else reason[:1].upper() + reason[1:])
        else:
            event = _Event(job, _Kind.DONE, result)
        if isinstance(self._context, StreamContext):
            self._context.flush()
        self._post(event)


class JobQueue(QObject):
    """Jobs run on this queue's own pool (`threads` at a time, one by default: in order).
    With `latest_wins`, a new job discards every earlier one still running or waiting.
    Owners call `shutdown` before the queue goes: it stops and waits for every job."""

    busy_changed = Signal(bool)
    _deliver = Signal(object)  # _Event, emitted on pool threads

    def __init__(
        self, name: str, parent: QObject | None = None, *, threads: int = 1,
        latest_wins: bool = False,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self._latest_wins = latest_wins
        self._pool = QThreadPool(self)
        self._pool.setObjectName(name)
        self._pool.setMaxThreadCount(threads)
        self._pool.setExpiryTimeout(-1)  # one thread for the queue's life: per-thread state
        # (a library's catalogue connection) is opened once, not after every idle spell
        register_pool(self._pool)
        self._open: list[Job[Any]] = []  # submitted, outcome not yet delivered
        self._numbers = 0
        self._closed = False
        self.submitted = 0  # how many jobs were submitted (tests check cache hits with it)
        self._deliver.connect(self._dispatch)

    @property
    def busy(self) -> bool:
        return bool(self._open)

    @property
    def running(self) -> bool:
        """Some job's work is still going (a discarded one included)."""
        return self._pool.activeThreadCount() > 0 or self.busy

    def submit(
        self,
        work: Callable[[JobContext], T],
        done: Callable[[T], None] | None = None,
        *,
        failed: Callable[[str], None] | None = None,
        cancelled: Callable[[], None] | None = None,
        progress: Callable[[Progress], None] | None = None,
        token: CancelToken | None = None,
        what: str | None = None,
    ) -> Job[T]:
        """Run `work(context)` off the GUI thread; `done(result)`, `failed(message)` or
        `cancelled()` follows on the GUI thread, after any `progress` it reported. `what` names
        the work in the message about an unexpected error ("Indexing failed: …")."""
        job: Job[T] = self._new_job(token, what)
        job.on_done, job.on_failed, job.on_cancelled = done, failed, cancelled
        job.on_progress = progress
        self._start(job, JobContext(job, self._post), work)
        return job

    def stream(
        self,
        work: Callable[[StreamContext[B]], T],
        batch: Callable[[list[B]], None],
        done: Callable[[T], None] | None = None,
        *,
        failed: Callable[[str], None] | None = None,
        batch_size: int = BATCH_SIZE,
        what: str | None = None,
    ) -> Job[T]:
        """Like `submit`, for work that `put`s partial results: `batch(items)` gets them on the
        GUI thread, a few at a time, all of them before `done`."""
        job: Job[T] = self._new_job(None, what)
        job.on_done, job.on_failed, job.on_batch = done, failed, batch
        context: StreamContext[B] = StreamContext(job, self._post, batch_size)
        self._start(job, context, work)
        return job

    def _new_job(self, token: CancelToken | None, what: str | None) -> Job[Any]:
        self._numbers += 1
        return Job(self._numbers, token if token is not None else CancelToken(), what)

    def _start(self, job: Job[Any], context: JobContext, work: Callable[[Any], object]) -> None:
        self.submitted += 1
        if self._closed:
            job.discarded = job.finished = True
            return
        if self._latest_wins:
            for earlier in self._open:
                earlier.discard()
        self._open.append(job)
        if len(self._open) == 1:
            self.busy_changed.emit(True)
        self._pool.start(_Runnable(job, context, work, self._post))

    def _post(self, event: _Event) -> None:
        """Called on pool threads: hand the event to the GUI thread."""
        try:
            self._deliver.emit(event)
        except RuntimeError:  # the queue is being destroyed: nobody is left to tell
            log.debug("%s: event after the queue was deleted", self.name)

    @Slot(object)
    def _dispatch(self, event: _Event) -> None:
        job = event.job
        if event.kind in FINAL:
            self._finish(job)
        if job.discarded or self._closed:
            return
        if event.kind is _Kind.PROGRESS and job.on_progress is not None:
            job.on_progress(event.payload)  # type: ignore[arg-type]
        elif event.kind is _Kind.BATCH and job.on_batch is not None:
            job.on_batch(event.payload)  # type: ignore[arg-type]
        elif event.kind is _Kind.DONE and job.on_done is not None:
            job.on_done(event.payload)
        elif event.kind is _Kind.FAILED and job.on_failed is not None:
            job.on_failed(str(event.payload))
        elif event.kind is _Kind.CANCELLED and job.on_cancelled is not None:
            job.on_cancelled()

    def _finish(self, job: Job[Any]) -> None:
        job.finished = True
        if job in self._open:
            self._open.remove(job)
            if not self._open:
                self.busy_changed.emit(False)

    def discard_all(self) -> None:
        """Discard every job still running or waiting."""
        for job in self._open:
            job.discard()

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Discard every job, drop those not started, wait for the running ones (up to
        `timeout_ms`, -1: as long as it takes). False when some job is still running."""
        self._closed = True
        self.discard_all()
        self._pool.clear()
        stopped = self._pool.waitForDone(timeout_ms)
        if stopped:
            for job in self._open:
                job.finished = True
            self._open.clear()
        return stopped
