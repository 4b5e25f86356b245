"""Guardline settings: one pydantic-settings object read from GUARDLINE_* environment variables."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUARDLINE_", env_file=".env", extra="ignore")

    # Key for consistent pseudonyms (HMAC-SHA256). Unset means the pseudonym operator
    # refuses to run rather than silently using a guessable default.
    pseudonym_key: SecretStr | None = None

    # Everything the embedded default keeps: the SQLite database, the local keystore.
    data_dir: Path = Path("data")
    # Unset: SQLite (WAL) at <data_dir>/guardline.db. PostgreSQL: postgresql+psycopg://user@host/db
    database_url: str | None = None

    # Data encryption: cipher for new data keys. SM4-GCM for deployments that need Chinese
    # commercial cryptography (GM/T 0002); existing records keep the cipher they were sealed with.
    cipher: Literal["AES-256-GCM", "SM4-GCM"] = "AES-256-GCM"
    # Switch off only to measure encryption overhead in bench/ingest.py; never in production.
    encryption: bool = True

    # Key-encryption keys: "local" keystore file (default) or a PKCS#11 token (an HSM).
    key_provider: Literal["local", "pkcs11"] = "local"
    keystore_path: Path | None = None  # unset: <data_dir>/keystore.json
    # The local keystore's master key: 32 bytes as base64 (GUARDLINE_MASTER_KEY), or derived from a
    # passphrase (GUARDLINE_KEYSTORE_PASSPHRASE). Neither set: `guardline init` writes a random one
    # to <data_dir>/master.key (0600) -- fine for a demo, not for production.
    master_key: SecretStr | None = None
    keystore_passphrase: SecretStr | None = None
    pkcs11_module: Path | None = None
    pkcs11_token_label: str | None = None
    pkcs11_pin: SecretStr | None = None

    # HTTP service.
    host: str = "127.0.0.1"
    port: int = 8080
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    # Behind a TLS-terminating proxy: trust X-Forwarded-* from these addresses only.
    forwarded_allow_ips: str | None = None
    max_body_bytes: int = 256 * 1024
    max_audio_bytes: int = 64 * 1024 * 1024
    max_batch: int = 500
    # Threads per server process running requests (see api/app.py for why this is small).
    worker_threads: int = Field(default=4, ge=1, le=64)
    # A verified API key is remembered this long per process (api/deps.py), so a request costs no
    # database read for it; a revocation takes effect within this time, expiry on every request.
    # 0 checks the database on every request.
    apikey_cache_seconds: float = Field(default=2.0, ge=0, le=5)
    # Single messages are stored by group-commit writers (kit/groupcommit.py); SQLite always has one.
    # On PostgreSQL more writers overlap its commit flushes, but make smaller groups that cost more
    # CPU: on the 2-core bench machine one writer (pipelined, two round trips a group) did best.
    ingest_writers: int = Field(default=1, ge=1, le=16)

    # Call recordings: PII spans become silence or a 1 kHz tone; keep the unredacted original
    # (sealed) only when policy says so.
    audio_redaction: Literal["silence", "tone"] = "silence"
    keep_original_audio: bool = False

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'guardline.db').resolve()}"

    def resolved_keystore_path(self) -> Path:
        return self.keystore_path or self.data_dir / "keystore.json"


@functools.cache
def get_settings() -> Settings:
    return Settings()
