"""Signed checkpoints: (log id, tree size, Merkle root, chain head, time) signed with Ed25519 or SM2.

Rationale: the chain alone proves nothing against someone who can rewrite the table and recompute every
hash; a signature by a key the database does not hold does. Checkpoints are exported as JSON lines to
keep outside the database (``guardline audit checkpoint export``): a log shorter than an exported
checkpoint is a truncation, a log whose tree at that size has another root was rewritten.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import stat
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, RowMapping, select

from guardline.audit.chain import format_time
from guardline.audit.models import AuditCheckpoint
from guardline.config import Settings
from guardline.crypto.signing import PublicKey, SignatureAlgorithm, Signer, load_signer, new_signing_secret
from guardline.errors import BadInput, ConfigurationError

_DOMAIN = b"guardline-audit-checkpoint:v1\n"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    log_id: uuid.UUID
    tree_size: int
    time: str  # canonical UTC time, as signed
    hash_alg: str
    root_hash: bytes
    head_hash: bytes
    sig_alg: str
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return signed_message(
            log_id=self.log_id,
            tree_size=self.tree_size,
            time=self.time,
            hash_alg=self.hash_alg,
            root_hash=self.root_hash,
            head_hash=self.head_hash,
        )

    def verify(self, keys: Iterable[PublicKey]) -> bool:
        for key in keys:
            if key.key_id == self.key_id and key.algorithm == self.sig_alg:
                return key.verify(self.signature, self.message())
        return False

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "checkpoint",
            "log_id": str(self.log_id),
            "tree_size": self.tree_size,
            "time": self.time,
            "hash_alg": self.hash_alg,
            "root_hash": self.root_hash.hex(),
            "head_hash": self.head_hash.hex(),
            "sig_alg": self.sig_alg,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Checkpoint:
        try:
            return cls(
                log_id=uuid.UUID(str(record["log_id"])),
                tree_size=int(record["tree_size"]),
                time=str(record["time"]),
                hash_alg=str(record["hash_alg"]),
                root_hash=bytes.fromhex(record["root_hash"]),
                head_hash=bytes.fromhex(record["head_hash"]),
                sig_alg=str(record["sig_alg"]),
                key_id=str(record["key_id"]),
                signature=base64.b64decode(record["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise BadInput(
                f"not a Guardline audit checkpoint ({type(exc).__name__}: a field is missing or malformed)"
            ) from None

    @classmethod
    def from_row(cls, row: RowMapping) -> Checkpoint:
        return cls(
            log_id=row["log_id"],
            tree_size=row["tree_size"],
            time=format_time(row["time"]),
            hash_alg=row["hash_alg"],
            root_hash=bytes(row["root_hash"]),
            head_hash=bytes(row["head_hash"]),
            sig_alg=row["sig_alg"],
            key_id=row["key_id"],
            signature=bytes(row["signature"]),
        )


def signed_message(
    *, log_id: uuid.UUID, tree_size: int, time: str, hash_alg: str, root_hash: bytes, head_hash: bytes
) -> bytes:
    body = {
        "log_id": str(log_id),
        "tree_size": tree_size,
        "time": time,
        "hash_alg": hash_alg,
        "root_hash": root_hash.hex(),
        "head_hash": head_hash.hex(),
    }
    return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_checkpoint(
    signer: Signer,
    *,
    log_id: uuid.UUID,
    tree_size: int,
    time: datetime,
    hash_alg: str,
    root_hash: bytes,
    head_hash: bytes,
) -> Checkpoint:
    text_time = format_time(time)
    message = signed_message(
        log_id=log_id,
        tree_size=tree_size,
        time=text_time,
        hash_alg=hash_alg,
        root_hash=root_hash,
        head_hash=head_hash,
    )
    public = signer.public_key()
    return Checkpoint(
        log_id=log_id,
        tree_size=tree_size,
        time=text_time,
        hash_alg=hash_alg,
        root_hash=root_hash,
        head_hash=head_hash,
        sig_alg=signer.algorithm,
        key_id=public.key_id,
        signature=signer.sign(message),
    )


# ------------------------------------------------------------------------------------------ keys


def get_signer(settings: Settings, *, create: bool = True) -> Signer:
    """The checkpoint signing key: GUARDLINE_AUDIT_SIGNING_KEY, else the 0600 key file in the data dir."""
    if settings.audit_signing_key is not None:
        return load_signer(
            settings.audit_signature, _decode_secret(settings.audit_signing_key.get_secret_value())
        )
    return _file_signer(settings.resolved_audit_key_path().resolve(), settings.audit_signature, create)


@functools.cache
def _file_signer(path: Path, algorithm: SignatureAlgorithm, create: bool) -> Signer:
    if not path.exists():
        if not create:
            raise ConfigurationError(
                f"no audit signing key at {path}: set GUARDLINE_AUDIT_SIGNING_KEY or run "
                "`guardline audit keygen`"
            )
        write_key_file(path, algorithm)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{path} is readable by others; fix it with `chmod 600 {path}`")
    text = path.read_text(encoding="utf-8").strip()
    stored_alg, _, body = text.partition(":")
    if stored_alg != algorithm:
        raise ConfigurationError(
            f"{path} holds a {stored_alg or 'malformed'} key but GUARDLINE_AUDIT_SIGNATURE is {algorithm}"
        )
    return load_signer(algorithm, _decode_secret(body))


def write_key_file(path: Path, algorithm: SignatureAlgorithm) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = base64.b64encode(new_signing_secret(algorithm)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{algorithm}:{secret}\n")


def _decode_secret(text: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("the audit signing key must be base64 of 32 bytes") from None
    if len(secret) != 32:
        raise ConfigurationError("the audit signing key must be base64 of 32 bytes")
    return secret


# ------------------------------------------------------------------------------------ files


def read_checkpoints(path: Path) -> list[Checkpoint]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"cannot read checkpoints file {path}: {exc.strerror}") from None
    return list(parse_checkpoints(lines))


def parse_checkpoints(lines: Iterable[str]) -> Iterator[Checkpoint]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise BadInput(f"checkpoints line {number}: not valid JSON") from None
        if isinstance(record, dict) and record.get("type") == "checkpoint":
            yield Checkpoint.from_json(record)


def read_public_keys(paths: Iterable[Path]) -> list[PublicKey]:
    keys: list[PublicKey] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot read public key {path}: {exc.strerror}") from None
        keys.extend(PublicKey.parse(line) for line in text.splitlines() if line.strip())
    return keys


def load_checkpoints(conn: Connection) -> list[Checkpoint]:
    table = AuditCheckpoint.__table__
    rows = conn.execute(select(table).order_by(table.c.tree_size)).mappings()
    return [Checkpoint.from_row(row) for row in rows]


def export_checkpoints(conn: Connection, out: IO[str], *, since: int = 0) -> int:
    """Write the signed checkpoints (JSON lines, oldest first) to keep outside the database."""
    count = 0
    for checkpoint in load_checkpoints(conn):
        if checkpoint.tree_size > since:
            out.write(json.dumps(checkpoint.to_json(), sort_keys=True) + "\n")
            count += 1
    return count
