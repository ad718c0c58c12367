"""A bounded queue in front of declaring programs: a few at a time, a few more waiting, and
"busy" beyond that, so a burst of plans is refused with a retry hint instead of piling up.

Requests that need the same declaration at the same time share one run (single flight).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import Future

from programs import EnvironmentSpec
from service.engines.model import ResourceState

# Two cores per replica is the usual size: more declarations at once only slow each other.
DEFAULT_SLOTS = 2
DEFAULT_WAITING = 8
# How long an admitted request waits for a slot, or for a run another request started.
WAIT_SECONDS = 180.0

Declare = Callable[[list[EnvironmentSpec]], list[list[ResourceState]]]


class QueueFull(Exception):
    """Every slot is running and the waiting room is full (or a slot did not free in time)."""


class DeclarationQueue:
    def __init__(
        self, declare: Declare, *, slots: int = DEFAULT_SLOTS, waiting: int = DEFAULT_WAITING
    ) -> None:
        self._declare = declare
        self.capacity = slots + waiting
        self._admitted = threading.BoundedSemaphore(self.capacity)
        self._running = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._in_flight: dict[Hashable, Future[list[ResourceState]]] = {}

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """A place in the queue (running or waiting), or QueueFull at once."""
        if not self._admitted.acquire(blocking=False):
            raise QueueFull
        try:
            yield
        finally:
            self._admitted.release()

    def declare(
        self, wanted: Mapping[Hashable, EnvironmentSpec]
    ) -> dict[Hashable, list[ResourceState]]:
        """Each spec's declared resources, by the caller's key."""
        with self._lock:
            mine = {key: spec for key, spec in wanted.items() if key not in self._in_flight}
            theirs = {key: self._in_flight[key] for key in wanted if key not in mine}
            for key in mine:
                self._in_flight[key] = Future()
        declared: dict[Hashable, list[ResourceState]] = {}
        if mine:
            declared.update(self._run(mine))
        for key, running in theirs.items():
            try:
                declared[key] = running.result(timeout=WAIT_SECONDS)
            except TimeoutError as error:
                raise QueueFull from error
        return declared

    def _run(self, mine: dict[Hashable, EnvironmentSpec]) -> dict[Hashable, list[ResourceState]]:
        try:
            with self.admit():
                if not self._running.acquire(timeout=WAIT_SECONDS):
                    raise QueueFull
                try:
                    results = self._declare(list(mine.values()))
                finally:
                    self._running.release()
        except BaseException as error:
            self._settle(mine, error=error)
            raise
        declared = dict(zip(mine, results, strict=True))
        self._settle(mine, results=declared)
        return declared

    def _settle(
        self,
        keys: Mapping[Hashable, object],
        *,
        results: Mapping[Hashable, list[ResourceState]] | None = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            for key in keys:
                future = self._in_flight.pop(key)
                if results is not None:
                    future.set_result(results[key])
                else:
                    assert error is not None
                    future.set_exception(error)
