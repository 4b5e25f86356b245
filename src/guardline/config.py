"""Guardline settings: one pydantic-settings object read from GUARDLINE_* environment variables."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LlmTarget(BaseModel):
    """One tenant's model endpoint (GUARDLINE_LLM_TENANTS); unset fields fall back to the deployment's."""

    model_config = ConfigDict(extra="forbid")

    url: str | None
    model: str | None = None
    api_key: SecretStr | None = None


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

    # Staff sessions: idle and absolute timeouts; the console cookie is Secure unless switched off for
    # plain-HTTP development on a host other than localhost.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=7 * 24)
    cookie_secure: bool = True
    # Lockout: after this many failed logins in a row, the account waits lockout_base_seconds,
    # doubling with each further failure up to lockout_max_seconds.
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_base_seconds: int = Field(default=60, ge=1)
    lockout_max_seconds: int = Field(default=3600, ge=1)
    # Just-in-time unmask: how long an approval lasts, and how long a request waits for an answer.
    unmask_grant_minutes: int = Field(default=15, ge=1, le=240)
    unmask_grant_max_minutes: int = Field(default=60, ge=1, le=24 * 60)
    unmask_request_ttl_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # OAuth 2.0 client credentials: access-token lifetime and the old secret's grace after a rotation.
    oauth_issuer: str = "guardline"
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    client_secret_grace_hours: int = Field(default=24, ge=0, le=30 * 24)
    # Access review: an account with no login for this long is dormant.
    dormant_days: int = Field(default=90, ge=1)
    # Guards (guardline.guard): message limits, rates in the `limits` notation ("30/minute"; empty
    # switches one off), the forbidden-content library (unset: the shipped default), what a foreign
    # personal value in a reply does, and how many verbatim prompt characters count as a leak.
    guard_max_chars: int = Field(default=4000, ge=1)
    guard_max_lines: int = Field(default=200, ge=1)
    guard_rate_customer: str | None = "30/minute"
    guard_rate_source: str | None = "120/minute"
    guard_rate_credential: str | None = "1200/minute"
    guard_forbidden_file: Path | None = None
    guard_pii_action: Literal["sanitize", "block"] = "sanitize"
    guard_prompt_overlap_chars: int = Field(default=40, ge=12)
    # The trained n-gram model's vote on top of the rules (guard/classifier.py); off: rules only.
    guard_model: bool = True
    # Shared state for several instances (rate-limit counts): redis://host:6379/0. Unset: in memory.
    redis_url: SecretStr | None = None
    # Audit log: chain/tree hash and checkpoint signature (SM3/SM2 for GM/T deployments; fixed by the
    # first event), a signed checkpoint every N events or T seconds, the signing key as base64 of 32
    # bytes (unset: <data_dir>/audit-signing.key, created 0600), and the retention floor for purges.
    audit_hash: Literal["sha256", "sm3"] = "sha256"
    audit_signature: Literal["ed25519", "sm2"] = "ed25519"
    audit_signing_key: SecretStr | None = None
    audit_signing_key_path: Path | None = None
    audit_checkpoint_every: int = Field(default=10_000, ge=1)
    audit_checkpoint_seconds: float = Field(default=300.0, gt=0)
    audit_retention_days: int = Field(default=180, ge=180)
    audit_batch_max: int = Field(default=2_000, ge=1, le=100_000)

    # Monitoring (guardline.monitoring): detection rules (unset: the shipped defaults), alert webhooks
    # as a JSON list or a JSON file of {url, format, secret?, min_severity?, name?}, their retries, and
    # a bearer token /metrics asks for (unset: /metrics is open, for a scraper on a private network).
    monitoring: bool = True
    monitoring_rules_file: Path | None = None
    alert_webhooks: SecretStr | None = None
    alert_webhooks_file: Path | None = None
    webhook_max_attempts: int = Field(default=5, ge=1, le=20)
    webhook_backoff_seconds: float = Field(default=2.0, ge=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    metrics_token: SecretStr | None = None
    # The customer-facing bot (guardline.bot). Call verification: code lifetime, attempts, and the
    # call-session credential's lifetime; ``bot_demo_codes`` returns the code to the integration
    # instead of sending it (a demo without an SMS gateway; never in production).
    bot_code_minutes: int = Field(default=5, ge=1, le=30)
    bot_code_attempts: int = Field(default=5, ge=1, le=10)
    bot_call_session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    bot_demo_codes: bool = False
    # How codes reach callers: a sender registered with guardline.bot.identity.register_sms_sender.
    bot_sms_sender: str = "demo"
    # Shops' FAQs: <dir>/<tenant slug>.csv|.json|.md (several formats may sit side by side), read at
    # start-up; unset: <data_dir>/faq. The demo tenant answers from the shipped demo FAQ.
    bot_faq_dir: Path | None = None
    # Orders: "demo" (local tables) or "http" (the shop's own API at shop_api_url).
    bot_commerce: Literal["demo", "http"] = "demo"
    shop_api_url: str | None = None
    shop_api_key: SecretStr | None = None
    shop_api_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Optional language model: any OpenAI-compatible /v1/chat/completions (Qwen, DeepSeek, vLLM,
    # Ollama ...). Unset URL: the bot answers without a model. It only ever sees placeholder-masked text.
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    llm_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    llm_max_tokens: int = Field(default=400, ge=16, le=4096)
    # Per tenant, by slug, overriding the deployment's model (JSON): {"shop-a": {"url": ..., "model":
    # ..., "api_key": ...}, "shop-b": {"url": null}}; a null url switches the model off for that shop.
    llm_tenants: dict[str, LlmTarget] = Field(default_factory=dict)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'guardline.db').resolve()}"

    def resolved_keystore_path(self) -> Path:
        return self.keystore_path or self.data_dir / "keystore.json"

    def resolved_audit_key_path(self) -> Path:
        return self.audit_signing_key_path or self.data_dir / "audit-signing.key"


@functools.cache
def get_settings() -> Settings:
    return Settings()
