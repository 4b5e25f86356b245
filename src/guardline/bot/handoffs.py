"""The agent queue: conversations the bot handed to a person, and agents claiming them.

The queue shows the bot's handoff summary (reason, topics, order numbers, counts; no message text and
no personal values). Claiming assigns the customer's case to the agent (access/cases.py), which is what
lets the agent read the conversation; a supervisor may claim for an agent, or for themselves (they
read the whole tenant already). While a handoff is open or claimed the bot stays out of the
conversation (chat.py); resolving it hands the conversation back to the bot. The case stays assigned
(the agent may need to follow up); releasing it is the supervisor's call (access/cases.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.access import cases
from guardline.access.principal import Principal
from guardline.access.roles import Permission, Role, permissions_of
from guardline.bot.models import Handoff
from guardline.bot.service import HandoffSummary
from guardline.errors import BadInput, Conflict, Forbidden, NotFound
from guardline.identity.accounts import get_user, roles_of
from guardline.kit.clock import SYSTEM_CLOCK, Clock

OPEN, CLAIMED, RESOLVED = "open", "claimed", "resolved"
WITH_A_PERSON = (OPEN, CLAIMED)


def summary_context(summary: HandoffSummary) -> dict[str, Any]:
    return {
        "intent": summary.intent.value,
        "intents": [i.value for i in summary.intents],
        "order_refs": list(summary.order_refs),
        "customer_turns": summary.customer_turns,
        "unanswered": summary.unanswered,
        "lang": summary.lang,
    }


def enqueue(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    customer_id: uuid.UUID,
    summary: HandoffSummary,
    clock: Clock = SYSTEM_CLOCK,
) -> Handoff:
    """Queue the conversation; one that is already waiting keeps its place (its summary is refreshed)."""
    waiting = session.scalars(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == OPEN)
    ).first()
    if waiting is not None:
        waiting.summary, waiting.reason, waiting.context = (
            summary.text,
            summary.reason,
            summary_context(summary),
        )
        session.flush()
        return waiting
    row = Handoff(
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        customer_id=customer_id,
        channel=summary.channel,
        reason=summary.reason,
        summary=summary.text,
        context=summary_context(summary),
        status=OPEN,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def list_queue(
    *, session: Session, tenant_id: uuid.UUID, status: str | None = OPEN, limit: int = 100
) -> list[Handoff]:
    query = select(Handoff).where(Handoff.tenant_id == tenant_id)
    if status is not None:
        if status not in (OPEN, CLAIMED, RESOLVED):
            raise BadInput("status: 'open', 'claimed' or 'resolved'")
        query = query.where(Handoff.status == status)
    return list(session.scalars(query.order_by(Handoff.created_at).limit(max(1, min(limit, 500)))).all())


def claim(
    *,
    session: Session,
    principal: Principal,
    tenant_id: uuid.UUID,
    handoff_id: uuid.UUID,
    user_id: uuid.UUID | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Handoff:
    """An agent claims for themselves; a supervisor (case.assign) for an agent, or for themselves."""
    row = session.get(Handoff, handoff_id, with_for_update=True)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such handoff in this tenant")
    if row.status != OPEN:
        raise Conflict("this handoff was already claimed")
    assignee = user_id or principal.id
    if assignee != principal.id and not principal.can(Permission.CASE_ASSIGN):
        raise Forbidden("agents claim handoffs for themselves; a supervisor can claim for an agent")
    user = get_user(session=session, tenant_id=tenant_id, user_id=assignee)
    if Role.AGENT in roles_of(user):
        if not cases.is_assigned(session=session, user_id=user.id, customer_id=row.customer_id):
            row.case_id = cases.assign(
                session=session,
                principal=principal,
                tenant_id=tenant_id,
                customer_id=row.customer_id,
                user_id=user.id,
                clock=clock,
            ).id
    elif Permission.CONVERSATION_READ not in permissions_of(roles_of(user)):
        raise BadInput("user_id: handoffs go to agents or supervisors")
    row.status, row.claimed_by, row.claimed_at = CLAIMED, user.id, clock.now()
    session.flush()
    return row


def active(*, session: Session, conversation_id: uuid.UUID) -> Handoff | None:
    """The conversation's handoff that is still with a person (open or claimed), if any."""
    return session.scalars(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(WITH_A_PERSON))
    ).first()


def resolve(
    *,
    session: Session,
    principal: Principal,
    tenant_id: uuid.UUID,
    handoff_id: uuid.UUID,
    clock: Clock = SYSTEM_CLOCK,
) -> Handoff:
    """The person is done: the bot answers the conversation again. The agent who claimed it resolves
    it, or a supervisor (case.assign) -- also one still open, that nobody needs to take."""
    row = session.get(Handoff, handoff_id, with_for_update=True)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such handoff in this tenant")
    if row.status == RESOLVED:
        raise Conflict("this handoff was already resolved")
    supervisor = principal.can(Permission.CASE_ASSIGN)
    if row.status == OPEN and not supervisor:
        raise Conflict("claim this handoff before resolving it")
    if row.status == CLAIMED and row.claimed_by != principal.id and not supervisor:
        raise Forbidden("only the agent who claimed this handoff, or a supervisor, can resolve it")
    row.status, row.resolved_by, row.resolved_at = RESOLVED, principal.id, clock.now()
    session.flush()
    return row
