"""Rate limits per customer, per source address and per credential (the ``limits`` library).

Moving windows, so a burst straddling a minute boundary is still one burst. Each dimension has its
own rate and is counted separately: one customer cannot flood the bot from many addresses, one
address cannot cycle through customers, one leaked API key cannot be used for a flood. Storage is
in memory by default (one process) and Redis when GUARDLINE_REDIS_URL is set (several instances
share the counts). Identifiers are hashed before they become storage keys, so no customer
reference, IP address or key prefix is ever written to Redis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from guardline.errors import ConfigurationError, GuardlineError
from guardline.guard.decision import Category, Finding

DIMENSIONS = ("customer", "source", "credential")


class RateLimitStorageUnavailable(GuardlineError):
    """The shared counter store (Redis) cannot be reached: refuse rather than run unlimited."""

    status_code = 503


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Rates in the ``limits`` notation ("30/minute", "5/second;100/hour"); None switches one off."""

    customer: str | None = "30/minute"
    source: str | None = "120/minute"
    credential: str | None = "1200/minute"


def _parse(setting: str, value: str | None) -> tuple[RateLimitItem, ...]:
    if value is None or not value.strip():
        return ()
    try:
        return tuple(parse(part) for part in value.split(";") if part.strip())
    except ValueError:
        raise ConfigurationError(
            f"GUARDLINE_GUARD_RATE_{setting.upper()}: {value[:40]!r} is not a rate like '30/minute'"
        ) from None


class RateLimiter:
    def __init__(
        self,
        *,
        limits: RateLimits = RateLimits(),
        storage_url: str = "memory://",
        namespace: str = "guardline",
    ) -> None:
        self.items = {d: _parse(d, getattr(limits, d)) for d in DIMENSIONS}
        try:
            # wrap_exceptions: a Redis outage surfaces as one StorageError, whatever the client raised.
            storage = storage_from_string(storage_url, wrap_exceptions=True)
        except LimitsConfigurationError as exc:
            scheme = storage_url.split(":", 1)[0][:20]
            raise ConfigurationError(
                f"GUARDLINE_REDIS_URL: unsupported rate-limit storage {scheme!r} ({exc.__class__.__name__})"
            ) from None
        if not isinstance(storage, Storage):  # an async storage (async+redis://) cannot serve hit()
            raise ConfigurationError(
                "GUARDLINE_REDIS_URL: use a synchronous storage URL (redis://, not async+)"
            )
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace

    def _key(self, dimension: str, identifier: str) -> str:
        digest = hashlib.blake2b(identifier.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        return f"{self.namespace}:{dimension}:{digest}"

    def hit(
        self, *, customer: str | None = None, source: str | None = None, credential: str | None = None
    ) -> Finding | None:
        """Count one message against every dimension given; a Finding when any rate is exceeded.

        Every dimension is counted even when an earlier one is already over its limit, so a flood
        from one address keeps that address limited whatever customer it claims to be. Identifiers
        are compared as given: qualify customer references with the tenant ("shop-a:c-1001").
        """
        exceeded: list[tuple[str, RateLimitItem]] = []
        for dimension, identifier in (("customer", customer), ("source", source), ("credential", credential)):
            if identifier is None:
                continue
            key = self._key(dimension, identifier)
            for item in self.items[dimension]:
                try:
                    ok = self.limiter.hit(item, key)
                except StorageError as exc:
                    cause = type(exc.storage_error).__name__
                    raise RateLimitStorageUnavailable(
                        f"rate-limit storage unreachable ({cause}); check GUARDLINE_REDIS_URL"
                    ) from None
                if not ok:
                    exceeded.append((dimension, item))
        if not exceeded:
            return None
        parts = [
            f"{d} over {item.amount} per {item.multiples} {item.GRANULARITY.name}" for d, item in exceeded
        ]
        return Finding(
            Category.RATE_LIMITED, 1.0, "rate_limited: " + "; ".join(parts), tuple(d for d, _ in exceeded)
        )

    def reset(self) -> None:
        """Forget all counts (tests, and an operator lifting a block)."""
        self.storage.reset()
