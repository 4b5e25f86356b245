"""Guards: input scanners (injection, jailbreak, SQL/XSS/command, size, rate) and output scanners.

from guardline.guard import get_input_guard, get_output_guard
decision = get_input_guard().scan(text, customer=ref, source=ip, credential=key_id)
if not decision.allowed: audit(decision.to_audit())          # reason carries no message text
reply = get_output_guard().scan(reply, own_values=customer_values, system_prompt=prompt)
"""

from guardline.guard.decision import ALLOW, Action, Category, Finding, GuardDecision
from guardline.guard.ratelimit import RateLimiter, RateLimits, RateLimitStorageUnavailable
from guardline.guard.service import (
    InputGuard,
    OutputGuard,
    get_input_guard,
    get_output_guard,
    input_guard_from,
    output_guard_from,
)

__all__ = [
    "ALLOW",
    "Action",
    "Category",
    "Finding",
    "GuardDecision",
    "InputGuard",
    "OutputGuard",
    "RateLimitStorageUnavailable",
    "RateLimiter",
    "RateLimits",
    "get_input_guard",
    "get_output_guard",
    "input_guard_from",
    "output_guard_from",
]
