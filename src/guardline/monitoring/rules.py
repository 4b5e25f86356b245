"""Detection rules from configuration: the shipped TOML file or GUARDLINE_MONITORING_RULES_FILE, validated.

A rule names its kind (the pattern it watches), thresholds, a window, a severity and the automatic
responses switched on for it (none by default: a response that locks people out must be a decision).
A bad file stops the service at start with an error naming the rule and the field.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from guardline.errors import ConfigurationError

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


class InvalidRules(ConfigurationError):
    """The rules file cannot be used; the message names the file, the rule and the field."""


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class Response(StrEnum):
    LOCK_ACCOUNT = "lock_account"
    BLOCK_SOURCE = "block_source"
    REVOKE_SESSIONS = "revoke_sessions"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    severity: Severity = Severity.MEDIUM
    enabled: bool = True
    responses: frozenset[Response] = frozenset()
    # How long a locked account stays locked, a blocked address stays blocked.
    lock_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 30
    block_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60


class _Windowed(_Rule):
    window_seconds: Annotated[int, Field(ge=1, le=7 * 86400)] = 600
    threshold: Annotated[int, Field(ge=1, le=1_000_000)] = 10


class BruteForce(_Windowed):
    kind: Literal["brute_force"]


class PasswordSpraying(_Windowed):
    kind: Literal["password_spraying"]


class SuccessAfterFailures(_Windowed):
    kind: Literal["success_after_failures"]


class ImpossibleTravel(_Rule):
    kind: Literal["impossible_travel"]
    window_seconds: Annotated[int, Field(ge=60, le=30 * 86400)] = 86400
    max_speed_kmh: Annotated[float, Field(gt=0, le=100_000)] = 900.0
    min_distance_km: Annotated[float, Field(ge=0, le=20_000)] = 500.0


def _check_actions(values: frozenset[str]) -> frozenset[str]:
    for value in values:
        if not _ACTION.fullmatch(value):
            raise ValueError(f"'{value}' is not an audit action name like unmask.read")
    if not values:
        raise ValueError("give at least one audit action")
    return values


class BulkUnmaskOrExport(_Windowed):
    kind: Literal["bulk_unmask_or_export"]
    window_seconds: Annotated[int, Field(ge=1, le=7 * 86400)] = 3600
    threshold: Annotated[int, Field(ge=1, le=1_000_000)] = 200
    actions: frozenset[str] = frozenset({"unmask.read", "training.read", "audit.export"})
    weights: dict[str, Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]] = Field(
        default_factory=lambda: {"unmask.read": "fields", "training.read": "rows", "audit.export": "rows"}
    )

    _actions = field_validator("actions")(_check_actions)


class OffHours(_Windowed):
    kind: Literal["off_hours"]
    threshold: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    window_seconds: Annotated[int, Field(ge=1, le=7 * 86400)] = 3600
    actions: frozenset[str] = frozenset(
        {"conversation.read", "call.read", "recording.read", "unmask.read", "customer.search"}
    )
    time_zone: str = "Asia/Shanghai"
    working_hours: str = "08:00-22:00"
    working_days: frozenset[Annotated[int, Field(ge=1, le=7)]] = frozenset(range(1, 8))

    _actions = field_validator("actions")(_check_actions)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone like Asia/Shanghai") from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        m = _HOURS.fullmatch(value)
        if not m or int(m[1]) > 23 or int(m[3]) > 24 or int(m[2]) > 59 or int(m[4]) > 59:
            raise ValueError("write working hours as HH:MM-HH:MM, like 08:00-22:00")
        return value

    def hours(self) -> tuple[time, time | None]:
        """Start and end of the working day; end None means midnight (24:00)."""
        m = _HOURS.fullmatch(self.working_hours)
        assert m is not None
        end = None if m[3] == "24" else time(int(m[3]), int(m[4]))
        return time(int(m[1]), int(m[2])), end


class PrivilegeChange(_Rule):
    kind: Literal["privilege_change"]
    privileged_roles: frozenset[str] = frozenset(
        {"tenant_admin", "security_admin", "auditor", "platform_admin", "privacy_officer"}
    )


class NewCredentialSource(_Rule):
    kind: Literal["new_credential_source"]


Rule = Annotated[
    BruteForce
    | PasswordSpraying
    | SuccessAfterFailures
    | ImpossibleTravel
    | BulkUnmaskOrExport
    | OffHours
    | PrivilegeChange
    | NewCredentialSource,
    Field(discriminator="kind"),
]
KINDS = (
    "brute_force",
    "password_spraying",
    "success_after_failures",
    "impossible_travel",
    "bulk_unmask_or_export",
    "off_hours",
    "privilege_change",
    "new_credential_source",
)
_ONE = TypeAdapter[Rule](Rule)


def _problem(err: Mapping[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ()) if str(p) not in KINDS]
    field = ".".join(loc) or "rule"
    if err.get("type") == "union_tag_invalid" or err.get("type") == "union_tag_not_found":
        return f"kind: must be one of {', '.join(KINDS)}"
    if err.get("type") == "extra_forbidden":
        return f"{field}: unknown field (check its spelling)"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{field}: {msg}"


def parse_rules(data: Any, *, source: str) -> tuple[Rule, ...]:
    """Validate a parsed rules document (``{"rules": [...]}``); errors name the rule and field."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise InvalidRules(f"{source}: expected a list of rules under 'rules' ([[rules]] in TOML)")
    extra = sorted(set(data) - {"rules"})
    if extra:
        raise InvalidRules(f"{source}: unknown top-level key '{extra[0]}'; only 'rules' is read")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["rules"]):
        name = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index + 1}"
        try:
            rule = _ONE.validate_python(raw)
        except ValidationError as exc:
            raise InvalidRules(f"{source}: rule '{name}': {_problem(exc.errors()[0])}") from None
        if rule.id in seen:
            raise InvalidRules(f"{source}: rule '{rule.id}': id is used by an earlier rule; ids are unique")
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    """The rules in ``path`` (TOML, or JSON by its .json suffix), or the shipped defaults."""
    if path is None:
        text = resources.files("guardline.monitoring").joinpath("data", "rules.toml").read_text("utf-8")
        return parse_rules(tomllib.loads(text), source="default rules")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRules(
            f"GUARDLINE_MONITORING_RULES_FILE {path}: cannot read it ({type(exc).__name__})"
        ) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRules(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from None
    return parse_rules(data, source=str(path))
