"""Guard fixtures: a real Redis on 127.0.0.1:6379 (in CI it must be up: missing fails, not skips)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

REDIS_URL = os.environ.get("GUARDLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and is not reachable: {type(exc).__name__}")
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A key namespace of this test's own; its keys are deleted afterwards."""
    import redis

    namespace = f"gl-test-{uuid.uuid4().hex[:10]}"
    yield namespace
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{namespace}*"):
        client.delete(key)
    client.close()
