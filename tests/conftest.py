"""Test-wide fixtures: hypothesis profiles, and the database on SQLite and PostgreSQL.

Hypothesis runs derandomized in CI so a landing never depends on luck; locally it explores new
examples on every run, and anything it finds is pinned with @example.

Database tests run once per backend. PostgreSQL is the real server on 127.0.0.1 (in CI it must be up:
a missing server fails the run instead of skipping). Each xdist worker migrates its own schema with
Alembic, then every test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.crypto import Cipher, LocalKeystore
from guardline.identity import passwords
from guardline.kit import migrate
from guardline.kit.db import make_engine

# Argon2id at its production cost takes ~170 ms a hash; the tests create hundreds of accounts.
passwords.set_cost(time_cost=1, memory_cost=1024)

# No deadline: an example's duration is not what these tests check, and on a shared, loaded machine
# the default 200 ms deadline failed correct code at random.
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("dev", print_blob=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
POSTGRES_URL = os.environ.get(
    "GUARDLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {type(exc).__name__}")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'guardline.db'}"
        engine = make_engine(url)
        migrate.upgrade(url)
        yield engine
        engine.dispose()
        return
    _postgres_or_skip()
    schema = f"gl_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate.upgrade(url)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _fresh_postgres() -> Iterator[str]:
    _postgres_or_skip()
    schema = f"gl_fresh_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A newly migrated database of its own, for tests that commit (appenders, several processes)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        migrate.upgrade(url)
        yield url
        return
    yield from _fresh_postgres()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """``fresh_url`` on PostgreSQL only, for what only PostgreSQL does (advisory locks across
    processes)."""
    yield from _fresh_postgres()


@pytest.fixture
def fresh_engine(fresh_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_connection(db_engine: Engine) -> Iterator[Connection]:
    with db_engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()


@pytest.fixture
def session_factory(db_connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit to savepoints inside the test's transaction, which is rolled back."""
    return sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture(scope="session")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> LocalKeystore:
    return LocalKeystore.create(
        tmp_path_factory.mktemp("keys") / "keystore.json", master_key=secrets.token_bytes(32)
    )


@pytest.fixture
def keyring(keystore: LocalKeystore) -> KeyRing:
    return KeyRing(keystore, cipher=Cipher.AES_256_GCM)


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> str:
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_MODULE.exists():
        if os.environ.get("CI"):
            pytest.fail("SoftHSM2 is required in CI: `make test` installs the softhsm2 package")
        pytest.skip("SoftHSM2 not installed (apt-get install softhsm2)")
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    # SoftHSM2 reads its configuration when the module is first loaded in this process (this
    # session-scoped fixture runs before any test loads it): every token made here lives in tmp.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label = f"gl-{secrets.token_hex(4)}"
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678"],
        check=True,
        capture_output=True,
    )
    return label


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data directory for CLI tests: GUARDLINE_DATA_DIR points at it, no database URL or master
    key from the environment, settings re-read."""
    from guardline.config import get_settings

    directory = tmp_path / "data"
    monkeypatch.setenv("GUARDLINE_DATA_DIR", str(directory))
    for name in ("GUARDLINE_DATABASE_URL", "GUARDLINE_MASTER_KEY", "GUARDLINE_KEYSTORE_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()
