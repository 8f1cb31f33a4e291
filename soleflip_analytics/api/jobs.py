"""Refresh jobs: the API answers at once and refreshes in a background thread.

Jobs live in the memory of the process that took the request: with several
worker processes, ask the one that started a job (or read the refresh log,
where every refresh lands whoever started it). At most ``MAX_RUNNING`` jobs
refresh at a time per process; the others wait, ``pending``. A process that
exits while a job runs cuts its refresh short, and the view keeps its previous
rows.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from soleflip_analytics.api.dependencies import DatabaseEngine, synchronous
from soleflip_analytics.db import one_line
from soleflip_analytics.refresh import RefreshResult, refresh_views

TRIGGERED_BY = "api"  # in analytics.refresh_log
MAX_RUNNING = 4
KEPT_FINISHED = 200

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class JobState:
    """A job as it stands at one moment."""

    id: str
    views: tuple[str, ...]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    results: tuple[RefreshResult, ...]
    error: str | None

    @property
    def status(self) -> str:
        if self.finished_at is None:
            return "pending" if self.started_at is None else "running"
        failed = self.error is not None or not all(result.ok for result in self.results)
        return "failed" if failed else "completed"


class Job:
    """A refresh job; its runner thread changes it, requests read ``state()``."""

    def __init__(self, views: Sequence[str]) -> None:
        self._state = JobState(uuid.uuid4().hex, tuple(views), _now(), None, None, (), None)
        self._lock = threading.Lock()
        self.done = threading.Event()

    @property
    def id(self) -> str:
        return self._state.id

    def state(self) -> JobState:
        with self._lock:
            return self._state

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)

    def begin(self) -> None:
        self._update(started_at=_now())

    def add(self, results: Sequence[RefreshResult]) -> None:
        with self._lock:
            self._state = replace(self._state, results=self._state.results + tuple(results))

    def finish(self, error: str | None) -> None:
        self._update(finished_at=_now(), error=error)
        self.done.set()


class JobRunner:
    """Starts refresh jobs, one thread each, and remembers the latest ones."""

    def __init__(self, max_running: int = MAX_RUNNING, kept_finished: int = KEPT_FINISHED) -> None:
        self._slots = threading.BoundedSemaphore(max_running)
        self._kept_finished = kept_finished
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, bind: DatabaseEngine, views: Sequence[str]) -> Job:
        """A job refreshing ``views`` (validated, in refresh order), one at a time."""
        job = Job(views)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_finished()
        threading.Thread(
            target=self._run, args=(job, bind), name=f"soleflip-analytics-job-{job.id}",
            daemon=True,
        ).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every job started so far has finished; False after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not job.done.wait(remaining):
                return False
        return True

    def _forget_finished(self) -> None:
        finished = [job.id for job in self._jobs.values() if job.done.is_set()]
        for job_id in finished[: max(0, len(finished) - self._kept_finished)]:
            del self._jobs[job_id]

    def _run(self, job: Job, bind: DatabaseEngine) -> None:
        with self._slots:
            job.begin()
            error: str | None = None
            try:
                with synchronous(bind) as engine:
                    for view in job.state().views:
                        # One view per call, so that the job's results grow as it goes.
                        job.add(refresh_views(engine, [view], triggered_by=TRIGGERED_BY))
            except Exception as exception:
                logger.exception("refresh job %s failed", job.id)
                error = one_line(exception)
            finally:
                job.finish(error)


jobs = JobRunner()


def wait_for_jobs(timeout: float | None = None) -> bool:
    """Wait for the refresh jobs of this process to finish (at shutdown); False on timeout."""
    return jobs.wait(timeout)
