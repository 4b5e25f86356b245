"""PII engine: find personal data in Chinese and English customer-service text, and mask it."""

from guardline.pii.engine import PiiEngine, detect_lang, get_engine
from guardline.pii.entities import Entity, EntityType
from guardline.pii.policy import PiiPolicy

__all__ = ["Entity", "EntityType", "PiiEngine", "PiiPolicy", "detect_lang", "get_engine"]
