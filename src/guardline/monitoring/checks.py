"""One check per rule kind: in-memory sliding windows over audit events, keyed by account, source or actor.

Time is the event's own (its append time), never the wall clock, so a replayed day or a test's fake
clock drives the windows. Memory is bounded twice: each window holds at most ``threshold`` entries
(enough to decide), and each check keeps at most ``MAX_KEYS`` keys, dropping the least recently seen.
A firing empties its window, so an ongoing attack fires again after another ``threshold`` events and
each firing brings fresh evidence to the alert. Checks are not thread-safe on their own: the detector
calls them under its lock.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from guardline.audit.recorder import Recorded
from guardline.monitoring import rules as r
from guardline.monitoring.geo import Location, Locator, distance_km

MAX_KEYS = 50_000
LOGIN = "auth.login"
_FAILED = frozenset({"failure", "denied"})

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule matched: who or what (``subject``, an id or address, never a personal value), the audit
    seqs that show it, and a small non-personal summary."""

    rule: r.Rule
    tenant_id: uuid.UUID | None
    subject_type: str  # account | address | actor | user | credential
    subject: str
    seqs: tuple[int, ...]
    time: datetime
    summary: Mapping[str, Any] = field(default_factory=dict)
    user_id: uuid.UUID | None = None  # the staff account the responses act on
    address: str | None = None  # the source address block_source acts on


class Check(Protocol):
    @property
    def rule(self) -> r.Rule: ...

    def observe(self, item: Recorded) -> list[Firing]: ...


class Bounded(Generic[K, V]):
    """A dict that forgets its least recently used keys beyond ``limit``."""

    def __init__(self, make: Callable[[], V], limit: int = MAX_KEYS) -> None:
        self._data: OrderedDict[K, V] = OrderedDict()
        self._make = make
        self._limit = limit

    def get(self, key: K) -> V:
        value = self._data.get(key)
        if value is None:
            value = self._data[key] = self._make()
            if len(self._data) > self._limit:
                self._data.popitem(last=False)
        else:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._limit:
            self._data.popitem(last=False)

    def peek(self, key: K) -> V | None:
        return self._data.get(key)

    def pop(self, key: K) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


class Window:
    """(time, seq, weight) entries within ``span`` of the newest, at most ``maxlen`` of them."""

    __slots__ = ("entries", "span", "total")

    def __init__(self, span: timedelta, maxlen: int) -> None:
        self.span = span
        self.entries: deque[tuple[datetime, int, int]] = deque(maxlen=maxlen)
        self.total = 0

    def add(self, when: datetime, seq: int, weight: int = 1) -> None:
        if len(self.entries) == self.entries.maxlen:
            self.total -= self.entries[0][2]
        self.entries.append((when, seq, weight))
        self.total += weight
        self.prune(when)

    def prune(self, now: datetime) -> None:
        horizon = now - self.span
        while self.entries and self.entries[0][0] < horizon:
            self.total -= self.entries.popleft()[2]

    def seqs(self) -> tuple[int, ...]:
        return tuple(e[1] for e in self.entries)

    def clear(self) -> None:
        self.entries.clear()
        self.total = 0


def _account(item: Recorded) -> str:
    """The account an attempt was on: the hashed tenant+username when given, else the actor id."""
    value = item.event.details.get("account")
    return value if isinstance(value, str) and value else item.event.actor_id


def _user_id(item: Recorded) -> uuid.UUID | None:
    if item.event.actor_type != "staff":
        return None
    try:
        return uuid.UUID(item.event.actor_id)
    except ValueError:
        return None


def _span(rule: _WindowedRule) -> timedelta:
    return timedelta(seconds=rule.window_seconds)


_WindowedRule = r.BruteForce | r.PasswordSpraying | r.SuccessAfterFailures | r.BulkUnmaskOrExport


class BruteForce:
    """Failed logins on one account."""

    def __init__(self, rule: r.BruteForce) -> None:
        self.rule = rule
        self._windows: Bounded[tuple[uuid.UUID | None, str], Window] = Bounded(
            lambda: Window(_span(rule), rule.threshold)
        )

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.action != LOGIN or e.result not in _FAILED:
            return []
        account = _account(item)
        user = _user_id(item)
        key = (e.tenant_id, account)
        window = self._windows.get(key)
        window.add(item.time, item.seq)
        if window.total < self.rule.threshold:
            return []
        seqs = window.seqs()
        window.clear()
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "account",
                account,
                seqs,
                item.time,
                {"failures": len(seqs), "window_seconds": self.rule.window_seconds},
                user_id=user,
                address=e.source_ip,
            )
        ]


class PasswordSpraying:
    """Failures across many distinct accounts from one source address."""

    def __init__(self, rule: r.PasswordSpraying) -> None:
        self.rule = rule
        self._span = _span(rule)
        # per source: account -> (time, seq) of its latest failure, oldest first
        self._sources: Bounded[str, OrderedDict[str, tuple[datetime, int]]] = Bounded(OrderedDict)

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.action != LOGIN or e.result not in _FAILED or not e.source_ip:
            return []
        accounts = self._sources.get(e.source_ip)
        accounts.pop(_account(item), None)
        accounts[_account(item)] = (item.time, item.seq)
        horizon = item.time - self._span
        while accounts and next(iter(accounts.values()))[0] < horizon:
            accounts.popitem(last=False)
        while len(accounts) > self.rule.threshold:
            accounts.popitem(last=False)
        if len(accounts) < self.rule.threshold:
            return []
        seqs = tuple(seq for _, seq in accounts.values())
        accounts.clear()
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "address",
                e.source_ip,
                seqs,
                item.time,
                {"accounts": len(seqs), "window_seconds": self.rule.window_seconds},
                address=e.source_ip,
            )
        ]


class SuccessAfterFailures:
    """A successful login on an account that failed many times just before."""

    def __init__(self, rule: r.SuccessAfterFailures) -> None:
        self.rule = rule
        self._windows: Bounded[tuple[uuid.UUID | None, str], Window] = Bounded(
            lambda: Window(_span(rule), rule.threshold)
        )

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.action != LOGIN:
            return []
        key = (e.tenant_id, _account(item))
        if e.result in _FAILED:
            self._windows.get(key).add(item.time, item.seq)
            return []
        window = self._windows.peek(key)
        if window is None:
            return []
        window.prune(item.time)
        failures = window.seqs()
        self._windows.pop(key)  # a success starts the count again, as the lockout counter does
        if len(failures) < self.rule.threshold:
            return []
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "account",
                _account(item),
                (*failures, item.seq),
                item.time,
                {"failures": len(failures), "window_seconds": self.rule.window_seconds},
                user_id=_user_id(item),
                address=e.source_ip,
            )
        ]


@dataclass(frozen=True, slots=True)
class _Seen:
    time: datetime
    seq: int
    where: Location


class ImpossibleTravel:
    """Two successful logins of one account whose distance over time means an impossible speed."""

    def __init__(self, rule: r.ImpossibleTravel, locator: Locator) -> None:
        self.rule = rule
        self._locator = locator
        self._last: Bounded[tuple[uuid.UUID | None, str], _Seen] = Bounded(lambda: _SEEN_NOWHERE)

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.action != LOGIN or e.result != "success" or not e.source_ip:
            return []
        where = self._locator.locate(e.source_ip)
        if where is None:  # private, loopback, unknown: no location, never travel
            return []
        key = (e.tenant_id, e.actor_id)
        before = self._last.peek(key)
        self._last.put(key, _Seen(item.time, item.seq, where))
        if before is None:
            return []
        elapsed = (item.time - before.time).total_seconds()
        if elapsed > self.rule.window_seconds or elapsed < 0:
            return []
        raw = distance_km(before.where, where)
        if raw < self.rule.min_distance_km:
            return []
        # Both places are only known to within their accuracy radius: assume the shortest trip.
        km = max(0.0, raw - before.where.accuracy_km - where.accuracy_km)
        hours = max(elapsed, 60.0) / 3600
        speed = km / hours
        if speed <= self.rule.max_speed_kmh:
            return []
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "account",
                e.actor_id,
                (before.seq, item.seq),
                item.time,
                {"distance_km": round(raw), "minutes": round(elapsed / 60), "speed_kmh": round(speed)},
                user_id=_user_id(item),
                address=e.source_ip,
            )
        ]


_SEEN_NOWHERE = _Seen(datetime.min, 0, Location(0.0, 0.0, 0.0, None))  # never read: keys are put


def _weight(details: Mapping[str, Any], key: str | None) -> int:
    if key is None:
        return 1
    value = details.get(key)
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, list | tuple):
        return len(value)
    return 1


class BulkUnmaskOrExport:
    """More unmasked fields or exported rows per actor than a threshold within the window."""

    def __init__(self, rule: r.BulkUnmaskOrExport) -> None:
        self.rule = rule
        self._windows: Bounded[tuple[uuid.UUID | None, str], Window] = Bounded(
            lambda: Window(_span(rule), rule.threshold)
        )

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.action not in self.rule.actions or e.result != "success":
            return []
        weight = _weight(e.details, self.rule.weights.get(e.action))
        if weight == 0:
            return []
        window = self._windows.get((e.tenant_id, e.actor_id))
        window.add(item.time, item.seq, weight)
        if window.total < self.rule.threshold:
            return []
        seqs, total = window.seqs(), window.total
        window.clear()
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "actor",
                e.actor_id,
                seqs,
                item.time,
                {"items": total, "events": len(seqs), "window_seconds": self.rule.window_seconds},
                user_id=_user_id(item),
                address=e.source_ip,
            )
        ]


class OffHours:
    """Staff reads outside the configured working hours and days, in the configured time zone."""

    def __init__(self, rule: r.OffHours) -> None:
        self.rule = rule
        self._zone = ZoneInfo(rule.time_zone)
        self._start, self._end = rule.hours()
        self._windows: Bounded[tuple[uuid.UUID | None, str], Window] = Bounded(
            lambda: Window(timedelta(seconds=rule.window_seconds), rule.threshold)
        )

    def working(self, when: datetime) -> bool:
        local = when.astimezone(self._zone)
        if local.isoweekday() not in self.rule.working_days:
            return False
        t = local.time()
        if self._end is None:
            return t >= self._start
        if self._start <= self._end:
            return self._start <= t < self._end
        return t >= self._start or t < self._end  # a night shift across midnight

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.actor_type != "staff" or e.action not in self.rule.actions or e.result != "success":
            return []
        if self.working(item.time):
            return []
        window = self._windows.get((e.tenant_id, e.actor_id))
        window.add(item.time, item.seq)
        if window.total < self.rule.threshold:
            return []
        seqs = window.seqs()
        window.clear()
        local = item.time.astimezone(self._zone)
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "actor",
                e.actor_id,
                seqs,
                item.time,
                {"reads": len(seqs), "local_hour": local.hour, "time_zone": self.rule.time_zone},
                user_id=_user_id(item),
                address=e.source_ip,
            )
        ]


def _roles(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value)
    return None


class PrivilegeChange:
    """Roles changed, an account created with privileged roles, a second factor reset."""

    def __init__(self, rule: r.PrivilegeChange) -> None:
        self.rule = rule

    def observe(self, item: Recorded) -> list[Firing]:
        e = item.event
        if e.result != "success" or e.action not in ("user.update", "user.create", "user.mfa_reset"):
            return []
        summary: dict[str, Any] = {"action": e.action}
        if e.action == "user.update":
            roles, before = _roles(e.details.get("roles")), _roles(e.details.get("previous_roles"))
            if roles is None or before is None or roles == before:
                return []
            summary["added"] = sorted(roles - before)
            summary["removed"] = sorted(before - roles)
        elif e.action == "user.create":
            roles = _roles(e.details.get("roles")) or frozenset()
            privileged = roles & self.rule.privileged_roles
            if not privileged:
                return []
            summary["added"] = sorted(privileged)
        return [
            Firing(
                self.rule,
                e.tenant_id,
                "user",
                e.object_id or e.actor_id,
                (item.seq,),
                item.time,
                {**summary, "by": e.actor_id},
            )
        ]


@dataclass(frozen=True, slots=True)
class SourceProbe:
    """A service credential seen from an address not in the detector's cache: the worker decides,
    against the stored known pairs, whether it is the credential's baseline or a new source."""

    rule: r.NewCredentialSource
    item: Recorded

    @property
    def actor(self) -> str:
        return f"{self.item.event.actor_type}:{self.item.event.actor_id}"


class NewCredentialSource:
    """A service actor from an address it never used before; the first address is its baseline."""

    MAX_ADDRESSES = 256

    def __init__(self, rule: r.NewCredentialSource) -> None:
        self.rule = rule
        self._known: Bounded[str, set[str]] = Bounded(set)

    def observe(self, item: Recorded) -> list[Firing]:  # noqa: ARG002  (its work is probe())
        return []

    def probe(self, item: Recorded) -> SourceProbe | None:
        e = item.event
        if e.actor_type != "service" or not e.source_ip or e.result != "success":
            return None
        known = self._known.get(f"{e.actor_type}:{e.actor_id}")
        if e.source_ip in known:
            return None
        if len(known) < self.MAX_ADDRESSES:
            known.add(e.source_ip)  # pending: the worker's answer is the stored truth
        return SourceProbe(self.rule, item)


def build(rules: Iterable[r.Rule], locator: Callable[[], Locator]) -> list[Check]:
    """One check per enabled rule (the locator is opened only if a travel rule is on)."""
    out: list[Check] = []
    for rule in rules:
        if not rule.enabled:
            continue
        match rule:
            case r.BruteForce():
                out.append(BruteForce(rule))
            case r.PasswordSpraying():
                out.append(PasswordSpraying(rule))
            case r.SuccessAfterFailures():
                out.append(SuccessAfterFailures(rule))
            case r.ImpossibleTravel():
                out.append(ImpossibleTravel(rule, locator()))
            case r.BulkUnmaskOrExport():
                out.append(BulkUnmaskOrExport(rule))
            case r.OffHours():
                out.append(OffHours(rule))
            case r.PrivilegeChange():
                out.append(PrivilegeChange(rule))
            case r.NewCredentialSource():
                out.append(NewCredentialSource(rule))
    return out
