"""The local keystore: creation, opening with the right and wrong secrets, rotation, destruction."""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import threading
from pathlib import Path

import pytest

from guardline.config import Settings
from guardline.crypto import LocalKeystore, build_key_provider, init_local_keystore, load_master_key
from guardline.crypto import local as local_module
from guardline.crypto.providers import WrappedKey
from guardline.errors import BadInput, ConfigurationError, Conflict, DecryptionFailed, KeyUnavailable

CTX = {"tenant": "t1", "customer": "c1"}


@pytest.fixture
def master() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def store(tmp_path: Path, master: bytes) -> LocalKeystore:
    return LocalKeystore.create(tmp_path / "ks.json", master_key=master)


def test_file_is_private_and_holds_no_key_in_clear(
    store: LocalKeystore, tmp_path: Path, master: bytes
) -> None:
    path = tmp_path / "ks.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert base64.b64encode(master).decode() not in text
    assert json.loads(text)["kdf"] == {"name": "raw"}
    assert [p.name for p in tmp_path.iterdir()] == ["ks.json"]  # no temp files left


def test_wrap_unwrap_bound_to_context(store: LocalKeystore) -> None:
    key = secrets.token_bytes(32)
    wrapped = store.wrap(key, CTX)
    assert wrapped.provider == "local"
    assert wrapped.kek_version == 1
    assert store.unwrap(wrapped, CTX) == key
    with pytest.raises(DecryptionFailed):
        store.unwrap(wrapped, {**CTX, "customer": "c2"})
    tampered = WrappedKey("local", 1, wrapped.blob[:-1] + bytes([wrapped.blob[-1] ^ 1]))
    with pytest.raises(DecryptionFailed):
        store.unwrap(tampered, CTX)
    with pytest.raises(KeyUnavailable, match="provider 'pkcs11'"):
        store.unwrap(WrappedKey("pkcs11", 1, wrapped.blob), CTX)


def test_reopen_with_master_key(store: LocalKeystore, tmp_path: Path, master: bytes) -> None:
    wrapped = store.wrap(b"k" * 32, CTX)
    again = LocalKeystore.open(tmp_path / "ks.json", master_key=master)
    assert again.unwrap(wrapped, CTX) == b"k" * 32


def test_wrong_master_key_is_a_clear_error(store: LocalKeystore, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not open this keystore"):
        LocalKeystore.open(tmp_path / "ks.json", master_key=secrets.token_bytes(32))
    with pytest.raises(ConfigurationError, match="master key"):
        LocalKeystore.open(tmp_path / "ks.json", passphrase="guess")


def test_passphrase_keystore(tmp_path: Path) -> None:
    path = tmp_path / "ks.json"
    created = LocalKeystore.create(path, passphrase="correct horse battery staple")
    wrapped = created.wrap(b"k" * 32, CTX)
    assert json.loads(path.read_text())["kdf"]["name"] == "scrypt"
    assert (
        LocalKeystore.open(path, passphrase="correct horse battery staple").unwrap(wrapped, CTX) == b"k" * 32
    )
    with pytest.raises(ConfigurationError, match="does not open"):
        LocalKeystore.open(path, passphrase="wrong")


def test_refuses_overwrite_missing_and_shared_files(
    store: LocalKeystore, tmp_path: Path, master: bytes
) -> None:
    path = tmp_path / "ks.json"
    with pytest.raises(Conflict):
        LocalKeystore.create(path, master_key=master)
    with pytest.raises(KeyUnavailable, match="guardline init"):
        LocalKeystore.open(tmp_path / "missing.json", master_key=master)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        LocalKeystore.open(path, master_key=master)


def test_damaged_file(tmp_path: Path, master: bytes) -> None:
    path = tmp_path / "ks.json"
    path.write_text("{not json")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigurationError, match="damaged"):
        LocalKeystore.open(path, master_key=master)


def test_rotate_and_destroy(store: LocalKeystore, tmp_path: Path, master: bytes) -> None:
    old = store.wrap(b"a" * 32, CTX)
    assert store.rotate() == 2
    new = store.wrap(b"b" * 32, CTX)
    assert new.kek_version == 2
    assert store.versions() == [1, 2]
    assert store.unwrap(old, CTX) == b"a" * 32
    with pytest.raises(BadInput, match="current"):
        store.destroy_version(2)
    store.destroy_version(1)
    with pytest.raises(KeyUnavailable, match="version 1"):
        store.unwrap(old, CTX)
    with pytest.raises(BadInput):
        store.destroy_version(1)
    reopened = LocalKeystore.open(tmp_path / "ks.json", master_key=master)
    assert reopened.versions() == [2]
    assert reopened.unwrap(new, CTX) == b"b" * 32
    entry = json.loads((tmp_path / "ks.json").read_text())["keks"][0]
    assert entry["state"] == "destroyed"
    assert entry["sealed"] is None


def test_another_process_rotation_is_picked_up(store: LocalKeystore, tmp_path: Path, master: bytes) -> None:
    other = LocalKeystore.open(tmp_path / "ks.json", master_key=master)
    other.rotate()
    assert store.current_version() == 2
    wrapped = other.wrap(b"c" * 32, CTX)
    assert store.unwrap(wrapped, CTX) == b"c" * 32


@pytest.mark.parametrize("value", ["", "abc", base64.b64encode(b"x" * 31).decode(), "!!!!"])
def test_master_key_format(value: str) -> None:
    with pytest.raises(ConfigurationError, match="GUARDLINE_MASTER_KEY") as info:
        load_master_key(value)
    assert value not in str(info.value) or not value


def test_master_key_accepts_both_base64_alphabets() -> None:
    raw = bytes(range(250, 256)) + b"\xfb" * 26
    assert load_master_key(base64.b64encode(raw).decode()) == raw
    assert load_master_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw


def test_init_writes_a_demo_master_key_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    store, created = init_local_keystore(settings)
    assert created
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    again, created_again = init_local_keystore(settings)
    assert not created_again
    assert again.versions() == store.versions()
    assert build_key_provider(settings).current_version() == 1


def test_provider_without_any_secret_explains_the_options(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(KeyUnavailable, match="GUARDLINE_MASTER_KEY"):
        build_key_provider(settings)


def test_pkcs11_settings_must_be_complete(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, key_provider="pkcs11", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="GUARDLINE_PKCS11_MODULE, GUARDLINE_PKCS11_TOKEN_LABEL"):
        build_key_provider(settings)


def test_passphrase_keystore_refuses_a_master_key(tmp_path: Path) -> None:
    path = tmp_path / "ks.json"
    LocalKeystore.create(path, passphrase="pass phrase")
    with pytest.raises(ConfigurationError, match="GUARDLINE_KEYSTORE_PASSPHRASE"):
        LocalKeystore.open(path, master_key=secrets.token_bytes(32))


def test_exactly_one_secret(tmp_path: Path, master: bytes) -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        LocalKeystore.create(tmp_path / "ks.json")
    with pytest.raises(ConfigurationError, match="exactly one"):
        LocalKeystore.create(tmp_path / "ks.json", master_key=master, passphrase="p")
    assert list(tmp_path.iterdir()) == []


def test_exclusive_write_never_replaces(tmp_path: Path) -> None:
    """create() checks first, but the final link is what makes two racing `guardline init` safe."""
    path = tmp_path / "ks.json"
    path.write_text("theirs")
    with pytest.raises(Conflict):
        local_module._write_atomic(path, {"format": 1}, exclusive=True)
    assert path.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["ks.json"]


def test_failed_write_changes_nothing(
    store: LocalKeystore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ks.json"
    before = path.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        store.rotate()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ks.json"]
    # The KEK that never reached the disk must never wrap anything.
    assert store.versions() == [1]
    assert store.wrap(b"k" * 32, CTX).kek_version == 1


def test_rotation_and_destruction_leave_no_temp_files(store: LocalKeystore, tmp_path: Path) -> None:
    store.rotate()
    store.rotate()
    store.destroy_version(1)
    assert [p.name for p in tmp_path.iterdir()] == ["ks.json"]
    assert stat.S_IMODE((tmp_path / "ks.json").stat().st_mode) == 0o600


def test_two_instances_rotating_never_lose_a_version(
    store: LocalKeystore, tmp_path: Path, master: bytes
) -> None:
    """A server and `guardline keys rotate` each hold the keystore: neither may write over the other."""
    other = LocalKeystore.open(tmp_path / "ks.json", master_key=master)
    assert other.rotate() == 2
    wrapped = other.wrap(b"d" * 32, CTX)
    assert store.rotate() == 3
    final = LocalKeystore.open(tmp_path / "ks.json", master_key=master)
    assert final.versions() == [1, 2, 3]
    assert final.unwrap(wrapped, CTX) == b"d" * 32


def test_unwrap_from_threads_while_rotating(store: LocalKeystore) -> None:
    keys = [secrets.token_bytes(32) for _ in range(8)]
    wrapped = [store.wrap(key, {**CTX, "customer": str(i)}) for i, key in enumerate(keys)]
    errors: list[BaseException] = []

    def unwrap_all() -> None:
        try:
            for _ in range(50):
                for i, w in enumerate(wrapped):
                    assert store.unwrap(w, {**CTX, "customer": str(i)}) == keys[i]
        except BaseException as exc:
            errors.append(exc)

    def rotate_some() -> None:
        try:
            for _ in range(5):
                store.rotate()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=unwrap_all) for _ in range(4)]
    threads += [threading.Thread(target=rotate_some) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.versions() == list(range(1, 12))
