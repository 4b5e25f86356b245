"""Scanner registries: input scanners and output scanners by name, one scanner per module."""

from __future__ import annotations

from collections.abc import Callable

from guardline.guard.scanners.base import (
    InputContext,
    InputScanner,
    OutputContext,
    OutputResult,
    OutputScanner,
)
from guardline.guard.scanners.command_injection import CommandInjectionScanner
from guardline.guard.scanners.forbidden import ForbiddenContentScanner
from guardline.guard.scanners.jailbreak import JailbreakScanner
from guardline.guard.scanners.malformed import MalformedScanner
from guardline.guard.scanners.other_customer import OtherCustomerDataScanner
from guardline.guard.scanners.pii_leak import PiiLeakScanner
from guardline.guard.scanners.prompt_extraction import PromptExtractionScanner
from guardline.guard.scanners.prompt_injection import PromptInjectionScanner
from guardline.guard.scanners.prompt_leak import PromptLeakScanner
from guardline.guard.scanners.size import SizeScanner
from guardline.guard.scanners.sql_injection import SqlInjectionScanner
from guardline.guard.scanners.xss import XssScanner

# Content scanners in tie-break order; size and malformed run before all of them (see InputGuard).
INPUT_SCANNERS: dict[str, Callable[[], InputScanner]] = {
    "sql_injection": SqlInjectionScanner,
    "xss": XssScanner,
    "command_injection": CommandInjectionScanner,
    "prompt_injection": PromptInjectionScanner,
    "jailbreak": JailbreakScanner,
    "system_prompt_extraction": PromptExtractionScanner,
    "other_customer_data": OtherCustomerDataScanner,
}
OUTPUT_SCANNERS: dict[str, Callable[[], OutputScanner]] = {
    "prompt_leak": PromptLeakScanner,
    "forbidden_content": ForbiddenContentScanner,
    "pii_leak": PiiLeakScanner,
}

__all__ = [
    "INPUT_SCANNERS",
    "OUTPUT_SCANNERS",
    "CommandInjectionScanner",
    "ForbiddenContentScanner",
    "InputContext",
    "InputScanner",
    "JailbreakScanner",
    "MalformedScanner",
    "OtherCustomerDataScanner",
    "OutputContext",
    "OutputResult",
    "OutputScanner",
    "PiiLeakScanner",
    "PromptExtractionScanner",
    "PromptInjectionScanner",
    "PromptLeakScanner",
    "SizeScanner",
    "SqlInjectionScanner",
    "XssScanner",
]
