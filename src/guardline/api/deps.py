"""Request dependencies: the unit-of-work session, the calling API key, the service context."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.service import Context, get_tenant
from guardline.errors import Unauthorized
from guardline.identity import apikeys
from guardline.identity.apikeys import Principal, Scope


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, before the response is sent,
    and rolled back on any error, so a refused request stores nothing."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    presented = (
        header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "")
    )
    if not presented:
        raise Unauthorized("missing API key: send 'Authorization: Bearer glk_...' or 'X-API-Key: glk_...'")
    client = request.client.host if request.client else None
    return apikeys.authenticate(session=session, presented=presented, source_ip=client)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(scope: Scope) -> Callable[..., Context]:
    """A dependency giving the service context of the caller's tenant, if the key has ``scope``."""

    def dependency(request: Request, session: SessionDep, principal: PrincipalDep) -> Context:
        principal.require(scope)
        settings: Settings = request.app.state.settings
        keyring: KeyRing = request.app.state.keyring
        return Context(
            session=session,
            keyring=keyring,
            tenant=get_tenant(session=session, tenant_id=principal.tenant_id),
            encryption=settings.encryption,
            audio_redaction=settings.audio_redaction,
            keep_original_audio=settings.keep_original_audio,
        )

    return dependency
