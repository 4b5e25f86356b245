"""Group commit: coalescing, per-item outcomes, fallback to one transaction per item, order, lanes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from guardline.errors import Conflict
from guardline.kit.groupcommit import GroupCommit


class FakeStore:
    """A 'database' with transactions: a commit stores all of its items or none of them."""

    def __init__(self, *, poison: set[int] | None = None, refuse: set[int] | None = None) -> None:
        self.rows: list[int] = []
        self.transactions: list[list[int]] = []
        self.threads: set[str] = set()
        self.poison = poison or set()  # items that make the whole transaction fail (a DB error)
        self.refuse = refuse or set()  # items refused by a check: their own error, nothing written

    def commit(self, items: Sequence[int]) -> list[int | Exception]:
        self.threads.add(threading.current_thread().name)
        if self.poison & set(items):
            raise RuntimeError("constraint violated")
        outcomes: list[int | Exception] = []
        written = []
        for item in items:
            if item in self.refuse:
                outcomes.append(Conflict(f"item {item} refused"))
            else:
                written.append(item)
                outcomes.append(item * 10)
        self.rows += written
        self.transactions.append(list(items))
        return outcomes


async def submit_all(writer: GroupCommit[int, int], items: list[int]) -> list[int | BaseException]:
    results = await asyncio.gather(*(writer.submit(i) for i in items), return_exceptions=True)
    await writer.aclose()
    return list(results)


@pytest.mark.parametrize("threaded", [False, True])
def test_concurrent_items_share_one_transaction(threaded: bool) -> None:
    store = FakeStore()
    writer: GroupCommit[int, int] = GroupCommit(store.commit, threaded=threaded)
    results = asyncio.run(submit_all(writer, list(range(20))))
    assert results == [i * 10 for i in range(20)]
    assert store.rows == list(range(20))  # submission order
    assert len(store.transactions) < 20
    assert writer.largest > 1
    assert any(name.startswith("guardline-writer") for name in store.threads) is threaded


def test_a_refused_item_fails_alone() -> None:
    store = FakeStore(refuse={3})
    writer: GroupCommit[int, int] = GroupCommit(store.commit, threaded=False)
    results = asyncio.run(submit_all(writer, [1, 2, 3, 4]))
    assert results[:2] == [10, 20]
    assert isinstance(results[2], Conflict)
    assert results[3] == 40
    assert store.rows == [1, 2, 4]


@pytest.mark.parametrize("threaded", [False, True])
def test_a_failed_transaction_is_retried_item_by_item(threaded: bool) -> None:
    store = FakeStore(poison={3})
    writer: GroupCommit[int, int] = GroupCommit(store.commit, threaded=threaded)
    results = asyncio.run(submit_all(writer, [1, 2, 3, 4, 5]))
    assert [r for i, r in enumerate(results) if i != 2] == [10, 20, 40, 50]
    assert isinstance(results[2], RuntimeError)
    assert store.rows == [1, 2, 4, 5]  # the others committed, in order; nothing of item 3
    assert [1] in store.transactions  # retried alone


def test_groups_are_capped_and_keep_order() -> None:
    store = FakeStore()
    writer: GroupCommit[int, int] = GroupCommit(store.commit, threaded=False, max_group=4)
    asyncio.run(submit_all(writer, list(range(10))))
    assert max(len(t) for t in store.transactions) <= 4
    assert store.rows == list(range(10))


def test_lanes_keep_related_items_in_order() -> None:
    store = FakeStore()
    lock = threading.Lock()
    seen: list[int] = []

    def commit(items: Sequence[int]) -> list[int | Exception]:
        with lock:
            seen.extend(items)
        return store.commit(items)

    writer: GroupCommit[int, int] = GroupCommit(commit, threaded=True, lanes=3, lane=lambda i: i % 3)
    results = asyncio.run(submit_all(writer, list(range(30))))
    assert results == [i * 10 for i in range(30)]
    for lane in range(3):
        assert [i for i in seen if i % 3 == lane] == list(range(lane, 30, 3))
    assert len(store.threads) == 3


def test_lanes_need_a_lane_function() -> None:
    with pytest.raises(ValueError, match="lane function"):
        GroupCommit(FakeStore().commit, threaded=True, lanes=2)


def test_a_broken_commit_function_does_not_stop_the_writer() -> None:
    calls = 0

    def commit(items: Sequence[int]) -> list[int | Exception]:
        nonlocal calls
        calls += 1
        return []  # wrong number of outcomes

    async def run() -> tuple[BaseException | int, BaseException | int]:
        writer: GroupCommit[int, int] = GroupCommit(commit, threaded=False)
        first = await asyncio.gather(writer.submit(1), return_exceptions=True)
        second = await asyncio.gather(writer.submit(2), return_exceptions=True)
        await writer.aclose()
        return first[0], second[0]

    first, second = asyncio.run(run())
    assert isinstance(first, RuntimeError)
    assert isinstance(second, RuntimeError)
    assert calls == 2


def test_a_cancelled_request_does_not_break_the_group() -> None:
    store = FakeStore()

    async def run() -> list[int]:
        writer: GroupCommit[int, int] = GroupCommit(store.commit, threaded=True)
        gone = asyncio.ensure_future(writer.submit(1))
        kept = [asyncio.ensure_future(writer.submit(i)) for i in (2, 3)]
        await asyncio.sleep(0)
        gone.cancel()
        results = await asyncio.gather(*kept)
        await writer.aclose()
        return results

    assert asyncio.run(run()) == [20, 30]
    assert store.rows == [1, 2, 3] or store.rows == [2, 3]  # item 1 may have joined the group


def test_close_commits_what_is_queued_and_a_new_loop_starts_again() -> None:
    store = FakeStore()
    writer: GroupCommit[int, int] = GroupCommit(store.commit, threaded=True)
    asyncio.run(submit_all(writer, [1, 2]))
    asyncio.run(submit_all(writer, [3]))  # another event loop (a second test client): a fresh writer
    assert store.rows == [1, 2, 3]
