"""Case scope: an agent sees a customer's conversations only while assigned to that customer's case."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.access.models import CaseAssignment
from guardline.access.principal import Principal
from guardline.access.roles import Permission, Role
from guardline.conversations.models import Customer
from guardline.errors import BadInput, Conflict, Forbidden, NotFound
from guardline.identity.accounts import get_user, roles_of
from guardline.kit.clock import SYSTEM_CLOCK, Clock


def is_assigned(*, session: Session, user_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    return (
        session.scalars(
            select(CaseAssignment.id).where(
                CaseAssignment.user_id == user_id,
                CaseAssignment.customer_id == customer_id,
                CaseAssignment.released_at.is_(None),
            )
        ).first()
        is not None
    )


def ensure_can_read(*, session: Session, principal: Principal, customer_id: uuid.UUID) -> None:
    """Tenant-wide readers pass; agents pass only for customers whose case they hold."""
    if principal.can(Permission.CONVERSATION_READ):
        return
    if principal.can(Permission.CONVERSATION_READ_ASSIGNED) and is_assigned(
        session=session, user_id=principal.id, customer_id=customer_id
    ):
        return
    raise Forbidden("you are not assigned to this customer's case; ask a supervisor to assign it")


def assign(
    *,
    session: Session,
    principal: Principal,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    user_id: uuid.UUID,
    clock: Clock = SYSTEM_CLOCK,
) -> CaseAssignment:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant_id:
        raise NotFound("no such customer in this tenant")
    if customer.erased_at is not None:
        raise BadInput("customer_id: this customer was erased")
    agent = get_user(session=session, tenant_id=tenant_id, user_id=user_id)
    if agent.disabled_at is not None:
        raise BadInput("user_id: this account is disabled")
    if Role.AGENT not in roles_of(agent):
        raise BadInput("user_id: cases are assigned to agents")
    if is_assigned(session=session, user_id=agent.id, customer_id=customer.id):
        raise Conflict("this agent already holds this customer's case")
    row = CaseAssignment(
        tenant_id=tenant_id,
        customer_id=customer.id,
        user_id=agent.id,
        assigned_by=principal.id,
        assigned_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def release(
    *, session: Session, tenant_id: uuid.UUID, assignment_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK
) -> CaseAssignment:
    row = session.get(CaseAssignment, assignment_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such case assignment in this tenant")
    if row.released_at is None:
        row.released_at = clock.now()
    session.flush()
    return row


def list_open(*, session: Session, principal: Principal, tenant_id: uuid.UUID) -> list[CaseAssignment]:
    query = select(CaseAssignment).where(
        CaseAssignment.tenant_id == tenant_id, CaseAssignment.released_at.is_(None)
    )
    if not principal.can(Permission.CASE_ASSIGN):
        query = query.where(CaseAssignment.user_id == principal.id)  # agents see their own cases
    return list(session.scalars(query.order_by(CaseAssignment.assigned_at)).all())
