"""Group commit: a writer coalesces concurrent requests' writes into one transaction.

A request submits its item and awaits a future. The writer takes everything queued since its last
transaction (up to ``max_group``) and calls ``commit(items)``, which stores them in ONE transaction and
returns one outcome per item: its result, or the exception that refused it (an item refused by
``commit`` must have written nothing). If ``commit`` raises instead, its transaction was rolled back
and nothing of the group is stored; the writer then commits each item alone, so a failure (a lost
constraint race, a deadlock) stays with the request that caused it and the others still commit.

Items of one lane are committed in the order they were submitted, one group at a time. ``lanes``
writers run side by side, each on its own queue; ``lane(item)`` picks the writer, so items that must
stay in order (one customer's messages) share one. Several lanes let a database that waits for its
disk on every commit (PostgreSQL flushing its WAL) overlap those waits. With ``threaded`` each writer
commits in a thread of its own (blocking database round trips must not stall the event loop:
PostgreSQL); without it, on the loop (SQLite: local and serial anyway, a thread hop costs more).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("guardline.groupcommit")

Commit = Callable[[Sequence[T]], Sequence[R | Exception]]


class _Lane(Generic[T, R]):
    def __init__(self, loop: asyncio.AbstractEventLoop, number: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[T, asyncio.Future[R]] | None] = asyncio.Queue()
        self.executor: ThreadPoolExecutor | None = None
        self.task: asyncio.Task[None] | None = None
        self.number = number


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        commit: Commit[T, R],
        *,
        threaded: bool,
        lanes: int = 1,
        lane: Callable[[T], int] | None = None,
        max_group: int = 64,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if max_group < 1 or lanes < 1:
            raise ValueError("max_group and lanes must be at least 1")
        if lanes > 1 and lane is None:
            raise ValueError("several lanes need a lane function to keep related items in order")
        self._commit = commit
        self._on_close = on_close
        self._threaded = threaded
        self._lane = lane
        self.lanes = lanes
        self.max_group = max_group
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lanes: list[_Lane[T, R]] = []
        self.groups = 0  # transactions tried, for tests and diagnostics
        self.largest = 0

    async def submit(self, item: T) -> R:
        """Queue the item for its lane's next group; returns its result or raises its own error."""
        loop = asyncio.get_running_loop()
        lanes = self._start(loop)
        future: asyncio.Future[R] = loop.create_future()
        index = self._lane(item) % self.lanes if self._lane is not None else 0
        lanes[index].queue.put_nowait((item, future))
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> list[_Lane[T, R]]:
        # Started on first use, on the loop that serves requests (a test client may bring a new one).
        if self._loop is not loop:
            self._loop = loop
            self._lanes = [_Lane(loop, n) for n in range(self.lanes)]
        for writer in self._lanes:
            if writer.task is None or writer.task.done():
                writer.task = loop.create_task(self._run(writer), name=f"guardline-writer-{writer.number}")
        return self._lanes

    async def aclose(self) -> None:
        """Commit what is queued, then stop the writers."""
        lanes, self._lanes, self._loop = self._lanes, [], None
        for writer in lanes:
            if writer.task is not None and not writer.task.done():
                writer.queue.put_nowait(None)
                await writer.task
            if writer.executor is not None:
                writer.executor.shutdown(wait=True)
        if self._on_close is not None:
            self._on_close()

    async def _run(self, writer: _Lane[T, R]) -> None:
        stopping = False
        while not stopping:
            entry = await writer.queue.get()
            if entry is None:
                return
            batch = [entry]
            while len(batch) < self.max_group and not writer.queue.empty():
                more = writer.queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            items = [item for item, _ in batch]
            try:
                if self._threaded:
                    if writer.executor is None:
                        writer.executor = ThreadPoolExecutor(
                            1, thread_name_prefix=f"guardline-writer-{writer.number}"
                        )
                    outcomes = await writer.loop.run_in_executor(writer.executor, self._commit_group, items)
                else:
                    outcomes = self._commit_group(items)
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # the writer itself must survive anything, or every request hangs
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the request was cancelled (client gone); its item is committed
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def _commit_group(self, items: list[T]) -> list[R | Exception]:
        self.groups += 1
        self.largest = max(self.largest, len(items))
        try:
            outcomes = self._commit(items)
        except Exception as exc:
            if len(items) == 1:
                return [exc]
            log.info("group of %d rolled back (%s): committing each alone", len(items), type(exc).__name__)
        else:
            if len(outcomes) != len(items):
                return [RuntimeError("commit gave a different number of outcomes than items")] * len(items)
            return list(outcomes)
        alone: list[R | Exception] = []
        for item in items:
            self.groups += 1
            try:
                alone += self._commit([item])
            except Exception as exc:
                alone.append(exc)
        return alone
