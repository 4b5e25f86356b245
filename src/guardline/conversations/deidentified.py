"""De-identified messages for ML engineers: masked text, entity types and levels, conversations under
keyed pseudonyms -- no customer ids, no references, nothing that links back without the tenant's key.

Rationale: models are trained on what customers say, not on who they are. Masked text already has every
detected value replaced; conversation ids are replaced by an HMAC under the tenant's blind-index key, so
messages group by conversation but cannot be joined to the customer tables; erased customers' messages
(blanked at erasure) are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from guardline.conversations.classification import Level
from guardline.conversations.models import Message
from guardline.conversations.service import Context
from guardline.crypto import pseudonym
from guardline.errors import BadInput

MAX_LIMIT = 1000


def messages(ctx: Context, *, limit: int, before: datetime | None) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit: 1-{MAX_LIMIT}")
    key = ctx.keyring.index_key(ctx.tenant)
    query = select(Message).where(Message.tenant_id == ctx.tenant.id, Message.masked_text != "")
    if before is not None:
        query = query.where(Message.sent_at < before)
    rows = ctx.session.scalars(query.order_by(Message.sent_at.desc()).limit(limit)).all()
    return [
        {
            "conversation": pseudonym(key, "training-conversation", str(m.conversation_id)).hex(),
            "role": m.role,
            "lang": m.lang,
            "sent_at": m.sent_at.isoformat(),
            "text": m.masked_text,
            "entity_types": sorted({str(e["type"]) for e in m.entities}),
            "classification": Level(m.classification).label,
        }
        for m in rows
    ]
