"""What a guard returns: allow, block or sanitize, the category, and a reason safe for an audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    """Why a message or reply was stopped. The names are part of Guardline's public contract."""

    PROMPT_INJECTION = "prompt_injection"
    JAILBREAK = "jailbreak"
    SYSTEM_PROMPT_EXTRACTION = "system_prompt_extraction"
    OTHER_CUSTOMER_DATA = "other_customer_data"
    SQL_INJECTION = "sql_injection"
    XSS = "xss"
    COMMAND_INJECTION = "command_injection"
    OVERSIZED = "oversized"
    MALFORMED = "malformed"
    RATE_LIMITED = "rate_limited"
    PII_LEAK = "pii_leak"
    PROMPT_LEAK = "prompt_leak"
    FORBIDDEN_CONTENT = "forbidden_content"


class Action(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"
    SANITIZE = "sanitize"  # output only: the reply goes out with the offending values masked


@dataclass(frozen=True, slots=True)
class Finding:
    """One scanner's verdict. ``reason`` names signals and counts, never message text or values."""

    category: Category
    score: float
    reason: str
    signals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GuardDecision:
    action: Action
    category: Category | None = None
    reason: str = "no scanner fired"
    findings: tuple[Finding, ...] = ()
    # Only for SANITIZE: the reply with the offending spans masked. Never logged.
    text: str | None = field(default=None, repr=False)

    @property
    def allowed(self) -> bool:
        return self.action is not Action.BLOCK

    def to_audit(self) -> dict[str, object]:
        """A record for the audit log: action, category, reason and the signal names; no text."""
        return {
            "action": self.action.value,
            "category": self.category.value if self.category else None,
            "reason": self.reason,
            "findings": [
                {"category": f.category.value, "score": round(f.score, 2), "signals": list(f.signals)}
                for f in self.findings
            ],
        }


ALLOW = GuardDecision(Action.ALLOW)
