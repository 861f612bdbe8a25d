"""Fair scheduling under throttling: which queued call may start now, and how many at once.

Two limits bound every model call: the overall cap (`concurrency`, the size of the worker pool)
and its model's own limit. A model's limit starts at its cap (`concurrency: {default: 8,
claude-sonnet: 2}`: a named model gets its number, every other model the default) and adapts
to throttling, AIMD-style, model by model:

- a call that was throttled (a 429 `ThrottlingException` or `ModelNotReadyException`, a 503
  `ServiceUnavailableException`, in any of its attempts, botocore's retries included) halves
  its model's limit, at most once per round: a throttled call sent before the last cut says
  nothing new, since that cut already answered the load it was part of;
- after `limit` calls in a row come back clean, the limit grows by one, up to the cap;
- it never drops below 1.

Queued calls are admitted in turns (round robin over the models that have room), so a model at
its limit, or slowed down by throttling, never holds up the others. botocore's own retries
(backoff inside one call, which `attempts` counts) stay as they are: this sits above them.

`Scheduler` admits work that the runner hands to its pool; `Budget` is the same limit for calls
made in the caller's own thread (judge and embedding calls: `grader_concurrency`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from promptlab.catalogue import ModelRef
    from promptlab.config import Config

T = TypeVar("T")

# Error codes that mean "too much at once" (Converse's and the lower-camel mid-stream ones).
THROTTLE_CODES = frozenset({
    "ThrottlingException", "ModelNotReadyException", "ServiceUnavailableException",
    "TooManyRequestsException", "throttlingException", "serviceUnavailableException",
})  # fmt: skip


def is_throttle(code: str | None) -> bool:
    return code in THROTTLE_CODES


def throttled_attempts(codes: Iterable[str]) -> int:
    """How many of the failed attempts' error codes say the model was throttled."""
    return sum(1 for code in codes if is_throttle(code))


@dataclass
class AdaptiveLimit:
    """One model's concurrency limit: AIMD between 1 and `cap` (fixed when not `adaptive`)."""

    cap: int
    adaptive: bool = True
    limit: int = field(init=False)
    epoch: int = 0  # bumped by every cut; a call remembers the epoch it was sent in
    clean: int = 0  # clean calls since the last change
    cuts: int = 0  # times the limit went down
    throttled: int = 0  # throttled calls reported, whether or not they cut the limit
    lowest: int = field(init=False)
    # (time.monotonic(), limit) at the start and at every change: the limit over time
    history: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cap = max(1, self.cap)
        self.limit = self.lowest = self.cap
        self.history.append((time.monotonic(), self.limit))

    def on_throttle(self, sent_in: int) -> bool:
        """A call sent in epoch `sent_in` was throttled: halve the limit (once per round).
        Returns whether the limit went down."""
        self.throttled += 1
        if not self.adaptive or sent_in != self.epoch:
            return False
        self.epoch += 1
        self.clean = 0
        before = self.limit
        self._set(max(1, self.limit // 2))
        if self.limit < before:
            self.cuts += 1
        return self.limit < before

    def on_success(self) -> None:
        """A call came back clean: after `limit` of them in a row, one more at once."""
        if not self.adaptive or self.limit >= self.cap:
            return
        self.clean += 1
        if self.clean >= self.limit:
            self.clean = 0
            self._set(self.limit + 1)

    def mean(self, until: float | None = None) -> float:
        """The limit averaged over time, from the first entry until `until` (default: now)."""
        end = time.monotonic() if until is None else until
        spans = zip(self.history, [*self.history[1:], (end, 0)], strict=True)
        total = sum((t1 - t0) * limit for (t0, limit), (t1, _) in spans if t1 > t0)
        elapsed = end - self.history[0][0]
        return total / elapsed if elapsed > 0 else float(self.limit)

    def _set(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self.lowest = min(self.lowest, limit)
            self.history.append((time.monotonic(), limit))


@dataclass(frozen=True)
class Ticket(Generic[T]):
    """Permission for one queued item to start: give it back with `Scheduler.finish`."""

    key: str
    item: T
    epoch: int


@dataclass
class _Lane(Generic[T]):
    limit: AdaptiveLimit
    queue: deque[tuple[int, T]] = field(default_factory=deque)  # (arrival number, item)
    running: int = 0


class Scheduler(Generic[T]):
    """Admits queued items: at most `total` running, at most each model's limit per model.

    `caps` maps a lane key (a model id) to its cap; a key missing from it gets `total`.
    `fair`: models take turns; otherwise items start in arrival order (a single shared pool,
    as before per-model limits existed). `adaptive`: limits follow throttling (AIMD).
    Thread-safe: `finish` is called from worker threads.
    """

    def __init__(
        self,
        total: int,
        caps: Mapping[str, int] | None = None,
        *,
        adaptive: bool = True,
        fair: bool = True,
    ) -> None:
        self.total = max(1, total)
        self.caps = dict(caps or {})
        self.adaptive = adaptive
        self.fair = fair
        self._lanes: dict[str, _Lane[T]] = {}
        self._turns: deque[str] = deque()  # lane keys, the next to serve first
        self._arrivals = itertools.count()
        self._running = 0
        self._lock = threading.Lock()

    @classmethod
    def shared_pool(cls, total: int) -> Scheduler[T]:
        """The behaviour before per-model limits: one pool, first come first served."""
        return cls(total, adaptive=False, fair=False)

    def add(self, key: str, item: T) -> None:
        with self._lock:
            lane = self._lanes.get(key)
            if lane is None:
                cap = min(self.total, self.caps.get(key, self.total))
                lane = self._lanes[key] = _Lane(AdaptiveLimit(cap, self.adaptive))
                self._turns.append(key)
            lane.queue.append((next(self._arrivals), item))

    def ready(self) -> list[Ticket[T]]:
        """Tickets for every queued item that may start now (each counts as running)."""
        out: list[Ticket[T]] = []
        with self._lock:
            while self._running < self.total:
                key = self._next()
                if key is None:
                    break
                lane = self._lanes[key]
                _, item = lane.queue.popleft()
                lane.running += 1
                self._running += 1
                out.append(Ticket(key, item, lane.limit.epoch))
        return out

    def finish(self, ticket: Ticket[T], *, throttled: bool, clean: bool) -> None:
        """The item is done: free its place; `throttled` (any attempt was) cuts its model's
        limit, `clean` (it succeeded without throttling) counts towards raising it."""
        with self._lock:
            lane = self._lanes[ticket.key]
            lane.running -= 1
            self._running -= 1
            if throttled:
                lane.limit.on_throttle(ticket.epoch)
            elif clean:
                lane.limit.on_success()

    def waiting(self) -> int:
        with self._lock:
            return sum(len(lane.queue) for lane in self._lanes.values())

    def limits(self) -> dict[str, AdaptiveLimit]:
        """Each model's limit (live objects: read them when the run is over)."""
        with self._lock:
            return {key: lane.limit for key, lane in self._lanes.items()}

    def _next(self) -> str | None:
        """The lane to start an item from: in turns when fair, else the oldest item's."""
        if not self.fair:
            open_lanes = [(lane.queue[0][0], key) for key, lane in self._lanes.items()
                          if lane.queue and lane.running < lane.limit.limit]  # fmt: skip
            return min(open_lanes)[1] if open_lanes else None
        for _ in range(len(self._turns)):
            key = self._turns[0]
            self._turns.rotate(-1)
            lane = self._lanes[key]
            if lane.queue and lane.running < lane.limit.limit:
                return key
        return None


class Budget:
    """At most `total` calls at once, made in the callers' own threads (which wait for a
    place), with the same adaptive limit: for judge and embedding calls."""

    def __init__(self, total: int, *, adaptive: bool = True) -> None:
        self.limit = AdaptiveLimit(total, adaptive)
        self._running = 0
        self._ready = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Wait for a place; set the slot's `throttled` / `clean` before leaving."""
        with self._ready:
            while self._running >= self.limit.limit:
                self._ready.wait()
            self._running += 1
            slot = Slot(self.limit.epoch)
        try:
            yield slot
        finally:
            with self._ready:
                self._running -= 1
                if slot.throttled:
                    self.limit.on_throttle(slot.epoch)
                elif slot.clean:
                    self.limit.on_success()
                self._ready.notify_all()


@dataclass
class Slot:
    """One place in a Budget; the caller says how the call went."""

    epoch: int
    throttled: bool = False
    clean: bool = False


def lane_key(ref: ModelRef) -> str:
    """What one limit covers: a model id (two aliases of one id share it)."""
    return ref.model_id


def model_caps(refs: Iterable[ModelRef], config: Config) -> dict[str, int]:
    """The cap of each of `refs`' models that `concurrency:` names (by alias or model id, or
    by a name that resolves to the same model id)."""
    if not config.model_concurrency:
        return {}
    from promptlab.catalogue import resolve
    from promptlab.errors import UsageError

    named: dict[str, int] = {}
    for name, cap in config.model_concurrency.items():
        named[name] = cap
        with suppress(UsageError):  # checked when the setting was read; nothing to match here
            named.setdefault(resolve(name, config, config.region).model_id, cap)
    caps: dict[str, int] = {}
    for ref in refs:
        found = named.get(ref.alias, named.get(ref.model_id))
        if found is not None:
            caps[lane_key(ref)] = min(found, caps.get(lane_key(ref), found))
    return caps
