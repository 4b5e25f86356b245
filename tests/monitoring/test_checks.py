"""Each rule kind on its attack pattern and on the normal traffic right next to it, on a fake clock."""

from __future__ import annotations

import uuid

from guardline.monitoring import checks
from guardline.monitoring.geo import GeoLite2Locator, Location, distance_km
from tests.monitoring.conftest import BEIJING, LONDON, SHANGHAI, TENANT, Feed, FixedLocator, rule


def _fail(feed: Feed, account: str, ip: str = SHANGHAI, user: str | None = None) -> checks.Recorded:
    return feed(
        "auth.login",
        actor_id=user or "anonymous",
        result="failure",
        source_ip=ip,
        details={"account": account, "reason": "password"},
    )


def _login(feed: Feed, user: str, ip: str, account: str = "acct-1") -> checks.Recorded:
    return feed("auth.login", actor_id=user, source_ip=ip, details={"account": account})


def test_brute_force_fires_at_threshold_then_again_with_fresh_evidence(feed: Feed) -> None:
    check = checks.BruteForce(rule("brute_force", threshold=5, window_seconds=600))  # type: ignore[arg-type]
    user = str(uuid.uuid4())
    out = []
    for _ in range(12):
        out += check.observe(_fail(feed, "acct-1", user=user))
        feed.advance(seconds=10)
    assert len(out) == 2
    first, second = out
    assert (first.subject_type, first.subject, first.tenant_id) == ("account", "acct-1", TENANT)
    assert first.seqs == (1, 2, 3, 4, 5)
    assert second.seqs == (6, 7, 8, 9, 10)
    assert first.user_id == uuid.UUID(user)
    assert first.summary["failures"] == 5


def test_brute_force_quiet_on_slow_typos_and_other_accounts(feed: Feed) -> None:
    check = checks.BruteForce(rule("brute_force", threshold=5, window_seconds=600))  # type: ignore[arg-type]
    out = []
    for i in range(20):  # one failure every 3 minutes: never 5 within 10 minutes
        out += check.observe(_fail(feed, "acct-1"))
        out += check.observe(_fail(feed, f"other-{i}"))
        feed.advance(minutes=3)
    assert out == []
    assert check.observe(_login(feed, "u", SHANGHAI)) == []


def test_password_spraying_counts_distinct_accounts_per_source(feed: Feed) -> None:
    check = checks.PasswordSpraying(rule("password_spraying", threshold=6, window_seconds=900))  # type: ignore[arg-type]
    out = []
    for i in range(5):  # the same five accounts many times: not spraying
        for _ in range(3):
            out += check.observe(_fail(feed, f"acct-{i}", ip=LONDON))
    assert out == []
    out += check.observe(_fail(feed, "acct-5", ip="203.0.113.9"))  # another source
    assert out == []
    out += check.observe(_fail(feed, "acct-6", ip=LONDON))
    assert len(out) == 1
    assert (out[0].subject_type, out[0].subject, out[0].address) == ("address", LONDON, LONDON)
    assert out[0].summary["accounts"] == 6


def test_password_spraying_window_slides(feed: Feed) -> None:
    check = checks.PasswordSpraying(rule("password_spraying", threshold=3, window_seconds=60))  # type: ignore[arg-type]
    out = []
    for i in range(10):
        out += check.observe(_fail(feed, f"acct-{i}", ip=LONDON))
        feed.advance(seconds=31)  # at most two within any minute
    assert out == []


def test_success_after_failures(feed: Feed) -> None:
    check = checks.SuccessAfterFailures(rule("success_after_failures", threshold=4, window_seconds=1800))  # type: ignore[arg-type]
    user = str(uuid.uuid4())
    for _ in range(2):  # typos then success: quiet
        assert check.observe(_fail(feed, "acct-1", user=user)) == []
    assert check.observe(_login(feed, user, SHANGHAI)) == []
    for _ in range(4):
        assert check.observe(_fail(feed, "acct-1", user=user)) == []
        feed.advance(minutes=1)
    (firing,) = check.observe(_login(feed, user, SHANGHAI))
    assert firing.subject == "acct-1"
    assert firing.user_id == uuid.UUID(user)
    assert len(firing.seqs) == 5  # four failures and the success
    assert check.observe(_login(feed, user, SHANGHAI)) == []  # the count starts again


def test_success_after_failures_outside_the_window_is_quiet(feed: Feed) -> None:
    check = checks.SuccessAfterFailures(rule("success_after_failures", threshold=4, window_seconds=600))  # type: ignore[arg-type]
    for _ in range(4):
        check.observe(_fail(feed, "acct-1"))
        feed.advance(minutes=5)
    assert check.observe(_login(feed, "u", SHANGHAI)) == []


def test_impossible_travel_with_the_packaged_database(feed: Feed) -> None:
    check = checks.ImpossibleTravel(rule("impossible_travel"), GeoLite2Locator())  # type: ignore[arg-type]
    user = str(uuid.uuid4())
    assert check.observe(_login(feed, user, SHANGHAI)) == []
    feed.advance(hours=2)
    (firing,) = check.observe(_login(feed, user, LONDON))  # ~9,200 km in two hours
    assert firing.subject == user
    assert firing.seqs == (1, 2)
    assert 9000 < firing.summary["distance_km"] < 9400
    feed.advance(hours=14)  # back in Shanghai 14 hours later: ~640 km/h after the radii, a flight
    assert check.observe(_login(feed, user, SHANGHAI)) == []
    feed.advance(hours=3)  # Beijing, ~1,070 km in 3 hours: a normal flight
    assert check.observe(_login(feed, user, BEIJING)) == []


def test_impossible_travel_ignores_private_and_slow_trips(feed: Feed) -> None:
    check = checks.ImpossibleTravel(rule("impossible_travel"), GeoLite2Locator())  # type: ignore[arg-type]
    user = str(uuid.uuid4())
    assert check.observe(_login(feed, user, "10.1.2.3")) == []
    feed.advance(minutes=5)
    assert check.observe(_login(feed, user, LONDON)) == []  # a private address has no location
    assert check.observe(_login(feed, user, "127.0.0.1")) == []
    feed.advance(minutes=5)
    assert check.observe(_login(feed, user, "192.168.1.20")) == []
    feed.advance(hours=20)  # London then Shanghai 20 hours later: possible
    assert check.observe(_login(feed, user, SHANGHAI)) == []
    other = str(uuid.uuid4())  # another account's login is not this account's trip
    assert check.observe(_login(feed, other, LONDON)) == []


def test_impossible_travel_subtracts_accuracy_radius(feed: Feed) -> None:
    a, b = Location(0.0, 0.0, 400.0, None), Location(0.0, 10.0, 400.0, None)  # ~1,112 km apart
    assert 1100 < distance_km(a, b) < 1120
    locator = FixedLocator({"198.51.100.1": a, "198.51.100.2": b})
    check = checks.ImpossibleTravel(rule("impossible_travel", max_speed_kmh=900), locator)  # type: ignore[arg-type]
    check.observe(_login(feed, "u", "198.51.100.1"))
    feed.advance(minutes=30)  # 312 km after the radii in half an hour: 624 km/h, possible
    assert check.observe(_login(feed, "u", "198.51.100.2")) == []


def test_bulk_unmask_or_export_weighs_fields_and_rows(feed: Feed) -> None:
    check = checks.BulkUnmaskOrExport(rule("bulk_unmask_or_export", threshold=50))  # type: ignore[arg-type]
    actor = str(uuid.uuid4())
    out = []
    for _ in range(4):  # approved unmasks of a few fields: normal
        out += check.observe(feed("unmask.read", actor_id=actor, details={"fields": 2, "grant": "g"}))
    assert out == []
    out += check.observe(feed("audit.export", actor_id=actor, details={"rows": 45}))
    assert len(out) == 1
    assert out[0].summary == {"items": 53, "events": 5, "window_seconds": 3600}
    assert out[0].subject == actor
    # failures and unlisted actions do not count
    assert check.observe(feed("audit.export", actor_id=actor, result="denied", details={"rows": 99})) == []
    assert check.observe(feed("conversation.read", actor_id=actor)) == []


def test_off_hours_in_the_configured_zone(feed: Feed) -> None:
    check = checks.OffHours(rule("off_hours"))  # type: ignore[arg-type]
    actor = str(uuid.uuid4())
    assert check.observe(feed("conversation.read", actor_id=actor)) == []  # 10:00 Shanghai
    feed.advance(hours=11, minutes=59)  # 21:59
    assert check.observe(feed("conversation.read", actor_id=actor)) == []
    feed.advance(minutes=2)  # 22:01
    (firing,) = check.observe(feed("unmask.read", actor_id=actor, details={"fields": 1}))
    assert firing.summary["local_hour"] == 22
    assert firing.subject == actor
    feed.advance(hours=4)  # 02:01: services ingesting at night are not staff reads
    assert check.observe(feed("message.ingest", actor_type="service", actor_id="key:abcd")) == []
    assert check.observe(feed("conversation.read", actor_type="service", actor_id="key:abcd")) == []


def test_off_hours_night_shift_and_days() -> None:
    night = checks.OffHours(rule("off_hours", working_hours="20:00-06:00", working_days=[1, 2, 3, 4, 5]))  # type: ignore[arg-type]
    from datetime import UTC, datetime

    assert night.working(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # Tue 23:00 Shanghai
    assert not night.working(datetime(2026, 12, 1, 4, 0, tzinfo=UTC))  # Tue 12:00
    assert not night.working(datetime(2026, 12, 5, 15, 0, tzinfo=UTC))  # Sat 23:00


def test_privilege_change(feed: Feed) -> None:
    check = checks.PrivilegeChange(rule("privilege_change"))  # type: ignore[arg-type]
    admin, target = str(uuid.uuid4()), str(uuid.uuid4())
    same = {"roles": ["agent"], "previous_roles": ["agent"], "disabled": False}
    assert (
        check.observe(feed("user.update", actor_id=admin, object_type="user", object_id=target, details=same))
        == []
    )
    assert (
        check.observe(feed("user.create", actor_id=admin, object_id=target, details={"roles": ["agent"]}))
        == []
    )
    up = {"roles": ["agent", "supervisor"], "previous_roles": ["agent"]}
    (f1,) = check.observe(
        feed("user.update", actor_id=admin, object_type="user", object_id=target, details=up)
    )
    assert (f1.subject_type, f1.subject) == ("user", target)
    assert f1.summary["added"] == ["supervisor"]
    assert f1.summary["by"] == admin
    (f2,) = check.observe(
        feed("user.create", actor_id=admin, object_id=target, details={"roles": ["auditor"]})
    )
    assert f2.summary["added"] == ["auditor"]
    (f3,) = check.observe(feed("user.mfa_reset", actor_id=admin, object_id=target))
    assert f3.summary["action"] == "user.mfa_reset"


def test_new_credential_source_probes_only_unseen_addresses(feed: Feed) -> None:
    check = checks.NewCredentialSource(rule("new_credential_source"))  # type: ignore[arg-type]
    ingest = {"actor_type": "service", "actor_id": "key:abcd1234", "source_ip": "198.51.100.7"}
    assert check.probe(feed("message.ingest", **ingest)) is not None
    assert check.probe(feed("message.ingest", **ingest)) is None  # cached after the first probe
    moved = {**ingest, "source_ip": "198.51.100.8"}
    assert check.probe(feed("message.ingest", **moved)) is not None
    assert check.probe(feed("conversation.read", source_ip="198.51.100.9")) is None  # staff
    assert check.probe(feed("message.ingest", actor_type="service", actor_id="key:x")) is None  # no address


def test_bounded_keys_forget_the_oldest() -> None:
    b: checks.Bounded[int, list[int]] = checks.Bounded(list, limit=3)
    for i in range(5):
        b.get(i).append(i)
    assert len(b) == 3
    assert b.peek(0) is None
    assert b.peek(4) == [4]
