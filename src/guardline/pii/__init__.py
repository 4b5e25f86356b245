"""PII engine: find personal data in Chinese and English customer-service text, and mask it.

from guardline.pii import get_engine, anonymize
entities = get_engine().analyze("我的手机是13812345678")
anonymize(text, entities).text        # "我的手机是138****5678"
"""

from guardline.pii.anonymizer import (
    MASK,
    PLACEHOLDER,
    REDACT,
    AnonymizedItem,
    AnonymizeResult,
    OperatorConfig,
    anonymize,
    deanonymize,
)
from guardline.pii.engine import PiiEngine, detect_lang, get_engine
from guardline.pii.entities import Entity, EntityType
from guardline.pii.operators import OPERATORS, PlaceholderVault, get_operator
from guardline.pii.policy import PiiPolicy

__all__ = [
    "MASK",
    "OPERATORS",
    "PLACEHOLDER",
    "REDACT",
    "AnonymizeResult",
    "AnonymizedItem",
    "Entity",
    "EntityType",
    "OperatorConfig",
    "PiiEngine",
    "PiiPolicy",
    "PlaceholderVault",
    "anonymize",
    "deanonymize",
    "detect_lang",
    "get_engine",
    "get_operator",
]
