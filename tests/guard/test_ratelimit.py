"""Rate limits: moving windows per customer, source address and credential; memory and real Redis."""

from __future__ import annotations

import time

import pytest

from guardline.errors import ConfigurationError
from guardline.guard import Category, RateLimiter, RateLimits, RateLimitStorageUnavailable


def _limiter(url: str = "memory://", namespace: str = "guardline") -> RateLimiter:
    return RateLimiter(
        limits=RateLimits(customer="3/minute", source="5/minute", credential="2/second"),
        storage_url=url,
        namespace=namespace,
    )


def _exercise(limiter: RateLimiter) -> None:
    for _ in range(3):
        assert limiter.hit(customer="c-1") is None
    over = limiter.hit(customer="c-1")
    assert over is not None
    assert over.category is Category.RATE_LIMITED
    assert over.signals == ("customer",)
    assert limiter.hit(customer="c-2") is None  # another customer has its own window


def test_memory_moving_window() -> None:
    _exercise(_limiter())


def test_dimensions_are_counted_separately_and_all_of_them() -> None:
    limiter = _limiter()
    # Five customers from one address: each customer is fine, the address hits its limit.
    results = [limiter.hit(customer=f"c{i}", source="203.0.113.9") for i in range(6)]
    assert results[:5] == [None] * 5
    last = results[5]
    assert last is not None
    assert last.signals == ("source",)
    # The address stays limited whatever customer it claims to be, and each hit still counts.
    again = limiter.hit(customer="fresh", source="203.0.113.9")
    assert again is not None
    assert again.signals == ("source",)


def test_window_moves_on() -> None:
    limiter = _limiter()
    assert limiter.hit(credential="k") is None
    assert limiter.hit(credential="k") is None
    assert limiter.hit(credential="k") is not None
    time.sleep(1.1)
    assert limiter.hit(credential="k") is None


def test_switched_off_dimension_never_limits() -> None:
    limiter = RateLimiter(limits=RateLimits(customer=None, source="", credential="1/minute"))
    assert all(limiter.hit(customer="c", source="s") is None for _ in range(50))


def test_several_rates_for_one_dimension() -> None:
    limiter = RateLimiter(limits=RateLimits(customer="100/minute;2/second", source=None, credential=None))
    assert limiter.hit(customer="c") is None
    assert limiter.hit(customer="c") is None
    over = limiter.hit(customer="c")
    assert over is not None
    assert "2 per 1 second" in over.reason


def test_bad_rate_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="GUARDLINE_GUARD_RATE_CREDENTIAL"):
        RateLimiter(limits=RateLimits(credential="ten per minute"))


def test_unknown_storage_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="GUARDLINE_REDIS_URL"):
        RateLimiter(storage_url="carrier-pigeon://coop")


def test_unreachable_redis_refuses_instead_of_running_unlimited() -> None:
    limiter = RateLimiter(storage_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(RateLimitStorageUnavailable, match="GUARDLINE_REDIS_URL") as info:
        limiter.hit(customer="c")
    assert info.value.status_code == 503


def test_redis_moving_window(redis_url: str, redis_namespace: str) -> None:
    _exercise(_limiter(redis_url, redis_namespace))


def test_redis_counts_are_shared_between_instances(redis_url: str, redis_namespace: str) -> None:
    a, b = _limiter(redis_url, redis_namespace), _limiter(redis_url, redis_namespace)
    assert a.hit(customer="shared") is None
    assert b.hit(customer="shared") is None
    assert a.hit(customer="shared") is None
    over = b.hit(customer="shared")
    assert over is not None
    assert over.signals == ("customer",)


def test_redis_keys_hold_no_identifier(redis_url: str, redis_namespace: str) -> None:
    import redis

    limiter = _limiter(redis_url, redis_namespace)
    limiter.hit(customer="13812345678", source="198.51.100.23", credential="gl_live_abcdef")
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter(match=f"*{redis_namespace}*")]
    assert len(keys) == 3
    for key in keys:
        assert "13812345678" not in key
        assert "198.51.100.23" not in key
        assert "gl_live" not in key
