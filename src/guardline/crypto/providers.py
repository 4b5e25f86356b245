"""The key-encryption-key provider interface: wrap and unwrap data keys under versioned KEKs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WrappedKey:
    provider: str
    kek_version: int
    blob: bytes


class KeyProvider(Protocol):
    @property
    def name(self) -> str: ...

    def current_version(self) -> int: ...

    def versions(self) -> list[int]:
        """Live (not destroyed) KEK versions, oldest first."""
        ...

    def wrap(self, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        """Wrap under the current version, bound to ``context``."""
        ...

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        """DecryptionFailed for a wrong context or tampered blob; KeyUnavailable for a destroyed version."""
        ...

    def rotate(self) -> int:
        """Create a new KEK version, make it current, return it."""
        ...

    def destroy_version(self, version: int) -> None:
        """Destroy an old version for good (refuses the current one)."""
        ...


def with_version(context: Mapping[str, str], version: int) -> dict[str, str]:
    return {**context, "kek_version": str(version)}
