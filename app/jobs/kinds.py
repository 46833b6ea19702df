"""Typed job kinds: each kind declares its payload as a pydantic model, and its handler receives
that model back, validated. Failures carry a typed reason, never a wording to match."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from app.core.settings import Settings
    from app.jobs.context import WorkerContext


class JobPayload(BaseModel):
    """What a job needs to run, stored as JSON in its row. Subclasses set `kind`, and override
    `ordering_key` when their jobs must run one at a time, oldest first (e.g. per ticket); the
    jobs sharing an ordering key are of one lane (its worker starts the next when one ends)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]
    # The workers of one lane share its slots: a lane's slow jobs never hold up another lane's.
    lane: ClassVar[str] = "default"
    # True: the handler decides when to stop (a permanent JobError); JOB_MAX_ATTEMPTS does not
    # apply (e.g. a delivery retried for as long as EVENT_RETRY_HOURS allows).
    retries_until_permanent: ClassVar[bool] = False

    def ordering_key(self) -> str | None:
        return None


class PeriodicPayload(JobPayload):
    """A periodic job: one run queued or running at a time, each run schedules the next."""

    def ordering_key(self) -> str | None:
        return f"periodic:{self.kind}"


PayloadT = TypeVar("PayloadT", bound=JobPayload)


@dataclass(frozen=True)
class Job(Generic[PayloadT]):
    """A claimed job as its handler sees it."""

    id: int
    attempts: int  # this run included
    created_at: datetime
    payload: PayloadT


class JobError(Exception):
    """A job failure; `transient` ones are retried later (after `retry_after` seconds when the
    other side said so), the others end the job as failed."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


class FailureReason(StrEnum):
    PERMANENT = "permanent"  # the job said it cannot succeed (and reported it itself)
    GAVE_UP = "gave_up"  # transient failures, retried until JOB_MAX_ATTEMPTS ran out


@dataclass(frozen=True)
class Failure:
    message: str
    reason: FailureReason


DEFAULT_LANE = "default"

Handler = Callable[["WorkerContext[Any]", Job[PayloadT]], Awaitable[None]]
FailureHandler = Callable[["WorkerContext[Any]", Job[PayloadT], Failure], Awaitable[None]]


@dataclass(frozen=True)
class JobKind(Generic[PayloadT]):
    payload_type: type[PayloadT]
    run: Handler[PayloadT]
    on_failure: FailureHandler[PayloadT] | None = None


class JobRegistry:
    """Which handler runs which kind; each feature registers its kinds (`app/wiring.py`)."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}
        self.periodic: dict[str, tuple[type[PeriodicPayload], Callable[[Settings], float]]] = {}
        self._lane_slots: dict[str, Callable[[Settings], int]] = {
            DEFAULT_LANE: lambda settings: settings.worker_concurrency
        }

    def add_lane(self, name: str, slots: Callable[[Settings], int]) -> None:
        """A lane of its own (`JobPayload.lane`), worked by its own worker with `slots(settings)`
        jobs at a time, so that its jobs and the others never wait for each other's slots."""
        self._lane_slots[name] = slots

    @property
    def lanes(self) -> list[str]:
        return sorted(self._lane_slots)

    def lane_slots(self, lane: str, settings: Settings) -> int:
        return self._lane_slots[lane](settings)

    def lane_kinds(self, lane: str) -> list[str]:
        return sorted(k for k, kind in self._kinds.items() if kind.payload_type.lane == lane)

    def register(
        self,
        payload_type: type[PayloadT],
        run: Handler[PayloadT],
        on_failure: FailureHandler[PayloadT] | None = None,
    ) -> None:
        if payload_type.kind in self._kinds:
            raise ValueError(f"job kind {payload_type.kind!r} is registered twice")
        if payload_type.lane not in self._lane_slots:
            raise ValueError(f"job kind {payload_type.kind!r} names an unknown lane")
        self._kinds[payload_type.kind] = JobKind(payload_type, run, on_failure)

    def register_periodic(
        self,
        payload_type: type[PeriodicPayload],
        run: Handler[Any],
        interval: Callable[[Settings], float],
    ) -> None:
        """A job run every `interval(settings)` seconds (0 = never) on one worker at a time: each
        run schedules the next, so the schedule is a row, not a timer per process."""
        self.register(payload_type, run)
        self.periodic[payload_type.kind] = (payload_type, interval)

    def get(self, kind: str) -> JobKind[Any] | None:
        return self._kinds.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._kinds)
