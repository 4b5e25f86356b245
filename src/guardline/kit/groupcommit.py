"""Group commit: one writer coalesces concurrent requests' writes into one transaction.

A request submits its item and awaits a future. The writer takes everything queued since its last
transaction (up to ``max_group``) and calls ``commit(items)``, which stores them in ONE transaction and
returns one outcome per item: its result, or the exception that refused it (an item refused by
``commit`` must have written nothing). If ``commit`` raises instead, its transaction was rolled back
and nothing of the group is stored; the writer then commits each item alone, so a failure (a lost
constraint race, a deadlock) stays with the request that caused it and the others still commit.

Items are committed in the order they were submitted, one group at a time. With ``threaded`` the
commit runs in a dedicated thread (blocking database round trips must not stall the event loop:
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


class GroupCommit(Generic[T, R]):
    def __init__(self, commit: Commit[T, R], *, threaded: bool, max_group: int = 64) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._commit = commit
        self._threaded = threaded
        self.max_group = max_group
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]] | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.groups = 0  # committed transactions, for tests and diagnostics
        self.largest = 0

    async def submit(self, item: T) -> R:
        """Queue the item for the next group; returns its result or raises its own error."""
        loop = asyncio.get_running_loop()
        queue = self._start(loop)
        future: asyncio.Future[R] = loop.create_future()
        queue.put_nowait((item, future))
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[tuple[T, asyncio.Future[R]] | None]:
        # Started on first use, on the loop that serves requests (a test client may bring a new one).
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._run(self._queue), name="guardline-group-commit")
        return self._queue

    async def aclose(self) -> None:
        """Commit what is queued, then stop the writer."""
        if self._queue is not None and self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            await self._task
        self._queue = self._task = self._loop = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _run(self, queue: asyncio.Queue[tuple[T, asyncio.Future[R]] | None]) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            entry = await queue.get()
            if entry is None:
                return
            batch = [entry]
            while len(batch) < self.max_group and not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            items = [item for item, _ in batch]
            try:
                if self._threaded:
                    if self._executor is None:
                        self._executor = ThreadPoolExecutor(1, thread_name_prefix="guardline-writer")
                    outcomes = await loop.run_in_executor(self._executor, self._commit_group, items)
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
