"""Guardline settings: one pydantic-settings object read from GUARDLINE_* environment variables."""

from __future__ import annotations

import functools

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUARDLINE_", env_file=".env", extra="ignore")

    # Key for consistent pseudonyms (HMAC-SHA256). Unset means the pseudonym operator
    # refuses to run rather than silently using a guessable default.
    pseudonym_key: SecretStr | None = None


@functools.cache
def get_settings() -> Settings:
    return Settings()
