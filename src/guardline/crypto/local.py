"""The local keystore: KEK versions in a 0600 JSON file, each sealed under a master key.

Rationale: the embedded default needs no HSM, yet the database alone never holds a usable key. The
master key comes from the environment (32 random bytes) or from a passphrase through scrypt; a key-check
value tells a wrong master key apart from damage. Writes are atomic (temp file, fsync, rename), so a
crash mid-rotation leaves the old or the new keystore, never half of one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import fcntl
import json
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from guardline.crypto.aead import Cipher, encode_context, open_, seal
from guardline.crypto.providers import WrappedKey, with_version
from guardline.errors import BadInput, ConfigurationError, Conflict, DecryptionFailed, KeyUnavailable

FORMAT = 1
_CHECK = b"guardline-keystore-check"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def load_master_key(value: str) -> bytes:
    """32 bytes as standard or URL-safe base64 (GUARDLINE_MASTER_KEY)."""
    text = value.strip()
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            key = decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(key) == 32:
            return key
    raise ConfigurationError(
        "GUARDLINE_MASTER_KEY must be 32 random bytes in base64, e.g. from `head -c32 /dev/urandom | base64`"
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive(passphrase: str, kdf: Mapping[str, Any]) -> bytes:
    salt = base64.b64decode(kdf["salt"])
    return Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(
        passphrase.encode()
    )


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_atomic(path: Path, data: dict[str, Any], *, exclusive: bool = False) -> None:
    """Temp file (0600) in the same directory, fsync, then rename over ``path`` (or link: never overwrite)."""
    fd, tmp = tempfile.mkstemp(prefix=".keystore-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise Conflict(f"keystore {path} already exists; it is never overwritten") from None
            Path(tmp).unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive across processes (`guardline keys rotate` next to a running server).

    Every write replaces the file, so lock the inode the path names and retry if a writer replaced it
    while we waited.
    """
    while True:
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                yield
                return
        finally:
            os.close(fd)  # closing releases the lock


def _new_entry(master: bytes, version: int) -> tuple[dict[str, Any], bytes]:
    kek = secrets.token_bytes(32)
    context = encode_context({"purpose": "kek", "version": str(version)})
    entry = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "state": "active",
        "sealed": _b64(seal(master, kek, context, cipher=Cipher.AES_256_GCM)),
    }
    return entry, kek


class LocalKeystore:
    name = "local"

    def __init__(self, path: Path, master: bytes, data: dict[str, Any]) -> None:
        self._path = path
        self._master = master
        self._data = data
        self._keks: dict[int, bytes] = {}
        self._lock = threading.RLock()
        self._stamp = self._file_stamp()
        self._keks = self._open_keks(data)

    # -- construction --------------------------------------------------------------------------
    @staticmethod
    def _master_from(
        master_key: bytes | None, passphrase: str | None, kdf: Mapping[str, Any] | None
    ) -> tuple[bytes, dict[str, Any]]:
        if (master_key is None) == (passphrase is None):
            raise ConfigurationError("give the keystore exactly one of a master key or a passphrase")
        if master_key is not None:
            if len(master_key) != 32:
                raise ConfigurationError("the keystore master key must be 32 bytes")
            return master_key, {"name": "raw"}
        assert passphrase is not None
        if not passphrase:
            raise ConfigurationError("GUARDLINE_KEYSTORE_PASSPHRASE must not be empty")
        if kdf is None:
            kdf = {"name": "scrypt", "salt": _b64(secrets.token_bytes(16)), **_SCRYPT}
        if kdf.get("name") != "scrypt":
            raise ConfigurationError("this keystore was created with a master key, not a passphrase")
        return _derive(passphrase, kdf), dict(kdf)

    @classmethod
    def create(
        cls, path: Path, *, master_key: bytes | None = None, passphrase: str | None = None
    ) -> LocalKeystore:
        if path.exists():
            raise Conflict(f"keystore {path} already exists; it is never overwritten")
        master, kdf = cls._master_from(master_key, passphrase, None)
        check = seal(master, _CHECK, encode_context({"purpose": "check"}), cipher=Cipher.AES_256_GCM)
        entry, _ = _new_entry(master, 1)
        data: dict[str, Any] = {"format": FORMAT, "kdf": kdf, "check": _b64(check), "keks": [entry]}
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, data, exclusive=True)
        return cls(path, master, data)

    @classmethod
    def open(
        cls, path: Path, *, master_key: bytes | None = None, passphrase: str | None = None
    ) -> LocalKeystore:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyUnavailable(f"keystore {path} not found; create it with `guardline init`") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(f"keystore {path} is readable by others; fix it with `chmod 600 {path}`")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            kdf = data["kdf"]
            check = base64.b64decode(data["check"])
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(f"keystore {path} is damaged: not a Guardline keystore") from None
        if data.get("format") != FORMAT:
            raise ConfigurationError(f"keystore {path} has an unknown format version")
        if kdf.get("name") == "raw" and master_key is None:
            raise ConfigurationError("this keystore was created with a master key (GUARDLINE_MASTER_KEY)")
        if kdf.get("name") == "scrypt" and passphrase is None:
            raise ConfigurationError(
                "this keystore was created with a passphrase (GUARDLINE_KEYSTORE_PASSPHRASE)"
            )
        master, _ = cls._master_from(master_key, passphrase, kdf if passphrase is not None else None)
        try:
            open_(master, check, encode_context({"purpose": "check"}))
        except DecryptionFailed:
            raise ConfigurationError("the master key or passphrase does not open this keystore") from None
        try:
            return cls(path, master, data)
        except (DecryptionFailed, ValueError, KeyError, TypeError):
            raise ConfigurationError(f"keystore {path} is damaged: a KEK entry does not open") from None

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self._path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_ino, st.st_size

    def _reload(self) -> None:
        with self._lock, self._path.open(encoding="utf-8") as handle:
            st = os.fstat(handle.fileno())
            data = json.load(handle)
            self._keks = self._open_keks(data)
            self._data = data
            self._stamp = (st.st_mtime_ns, st.st_ino, st.st_size)

    def _refresh(self) -> None:
        """Pick up a rotation or destruction done by another process (`guardline keys ...`)."""
        stamp = self._file_stamp()
        if stamp is not None and stamp != self._stamp:
            self._reload()

    def _open_keks(self, data: Mapping[str, Any]) -> dict[int, bytes]:
        keks = {}
        for entry in data["keks"]:
            if entry["state"] == "active":
                sealed = base64.b64decode(entry["sealed"])
                context = encode_context({"purpose": "kek", "version": str(entry["version"])})
                keks[int(entry["version"])] = open_(self._master, sealed, context)
        return keks

    # -- KeyProvider ---------------------------------------------------------------------------
    def current_version(self) -> int:
        self._refresh()
        return max(self._keks)

    def versions(self) -> list[int]:
        self._refresh()
        return sorted(self._keks)

    def wrap(self, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        version = self.current_version()
        aad = encode_context(with_version(context, version))
        return WrappedKey(
            self.name, version, seal(self._keks[version], data_key, aad, cipher=Cipher.AES_256_GCM)
        )

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        if wrapped.provider != self.name:
            raise KeyUnavailable(
                f"key wrapped by provider '{wrapped.provider}', but this keystore is 'local'"
            )
        self._refresh()
        kek = self._keks.get(wrapped.kek_version)
        if kek is None:
            raise KeyUnavailable(
                f"KEK version {wrapped.kek_version} is not in this keystore (destroyed or unknown)"
            )
        return open_(kek, wrapped.blob, encode_context(with_version(context, wrapped.kek_version)))

    def rotate(self) -> int:
        with self._lock, _file_lock(self._path):
            self._reload()  # another process may have rotated: never write over its version
            data = copy.deepcopy(self._data)
            version = max((int(e["version"]) for e in data["keks"]), default=0) + 1
            entry, kek = _new_entry(self._master, version)
            data["keks"].append(entry)
            _write_atomic(self._path, data)
            # Only once the KEK is on disk may wrap() use it.
            self._keks = {**self._keks, version: kek}
            self._data = data
            self._stamp = self._file_stamp()
            return version

    def destroy_version(self, version: int) -> None:
        with self._lock, _file_lock(self._path):
            self._reload()
            if version not in self._keks:
                raise BadInput(f"KEK version {version} is not live in this keystore")
            if version == max(self._keks):
                raise BadInput(f"KEK version {version} is current; rotate first, then retire the old one")
            data = copy.deepcopy(self._data)
            for entry in data["keks"]:
                if entry["version"] == version:
                    entry["state"] = "destroyed"
                    entry["sealed"] = None
                    entry["destroyed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            _write_atomic(self._path, data)
            self._keks = {v: k for v, k in self._keks.items() if v != version}
            self._data = data
            self._stamp = self._file_stamp()
