"""OAuth 2.0 client credentials: tokens, scopes, expiry, revocation, secret and signing-key rotation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.errors import BadInput, Unauthorized
from guardline.identity import oauth
from guardline.identity.apikeys import Scope
from guardline.identity.models import OAuthClient
from tests.factories import FakeClock, create_tenant


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tenant(session: Session, keyring: KeyRing) -> Tenant:
    return create_tenant(session, keyring)


@pytest.fixture
def client(session: Session, tenant: Tenant, clock: FakeClock) -> tuple[OAuthClient, str]:
    return oauth.create_client(
        session=session, tenant_id=tenant.id, name="crm", scopes=["ingest", "search"], clock=clock
    )


def _issue(
    session: Session,
    keyring: KeyRing,
    settings: Settings,
    clock: FakeClock,
    client_id: str,
    secret: str,
    scope: str | None = None,
) -> oauth.IssuedToken:
    return oauth.issue_token(
        session=session,
        provider=keyring.provider,
        client_id=client_id,
        client_secret=secret,
        scope=scope,
        source_ip="192.0.2.1",
        settings=settings,
        clock=clock,
    )


def test_token_round_trip(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    assert secret.encode() not in row.secret_hash
    issued = _issue(session, keyring, app_settings, clock, row.client_id, secret, "ingest")
    assert issued.scope == "ingest"
    assert issued.expires_in == app_settings.access_token_minutes * 60
    header = jwt.get_unverified_header(issued.access_token)
    assert header["alg"] == "EdDSA"
    claims = oauth.verify_token(
        session=session, token=issued.access_token, settings=app_settings, clock=clock
    )
    assert claims.client.id == row.id
    assert claims.scopes == {Scope.INGEST}
    assert row.last_used_ip == "192.0.2.1"


def test_default_scope_is_everything_granted(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    assert _issue(session, keyring, app_settings, clock, row.client_id, secret).scope == "ingest search"


def test_refusals(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    with pytest.raises(oauth.OAuthError) as info:
        _issue(session, keyring, app_settings, clock, row.client_id, secret, "ingest erase")
    assert info.value.code == "invalid_scope"
    assert info.value.status_code == 400
    for client_id, wrong in ((row.client_id, secret + "x"), ("glc_nope", secret)):
        with pytest.raises(oauth.OAuthError) as info:
            _issue(session, keyring, app_settings, clock, client_id, wrong)
        assert info.value.code == "invalid_client"
        assert info.value.status_code == 401
    with pytest.raises(BadInput):
        oauth.create_client(session=session, tenant_id=row.tenant_id, name="x", scopes=["admin"])


def test_expiry_follows_the_clock(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    token = _issue(session, keyring, app_settings, clock, row.client_id, secret).access_token
    clock.advance(minutes=app_settings.access_token_minutes - 1)
    oauth.verify_token(session=session, token=token, settings=app_settings, clock=clock)
    clock.advance(minutes=1)
    with pytest.raises(Unauthorized, match="expired"):
        oauth.verify_token(session=session, token=token, settings=app_settings, clock=clock)


def test_revoking_the_client_stops_its_tokens(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    token = _issue(session, keyring, app_settings, clock, row.client_id, secret).access_token
    oauth.revoke_client(session=session, client=row, clock=clock)
    with pytest.raises(Unauthorized):
        oauth.verify_token(session=session, token=token, settings=app_settings, clock=clock)
    with pytest.raises(oauth.OAuthError):
        _issue(session, keyring, app_settings, clock, row.client_id, secret)


def test_secret_rotation_with_grace(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, old = client
    new = oauth.rotate_secret(session=session, client=row, grace=timedelta(hours=1), clock=clock)
    _issue(session, keyring, app_settings, clock, row.client_id, new)
    _issue(session, keyring, app_settings, clock, row.client_id, old)  # still in its grace
    clock.advance(hours=1, seconds=1)
    with pytest.raises(oauth.OAuthError):
        _issue(session, keyring, app_settings, clock, row.client_id, old)
    newest = oauth.rotate_secret(session=session, client=row, grace=timedelta(0), clock=clock)
    with pytest.raises(oauth.OAuthError):
        _issue(session, keyring, app_settings, clock, row.client_id, new)  # no grace asked
    _issue(session, keyring, app_settings, clock, row.client_id, newest)


def test_signing_key_rotation_and_jwks(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    before = _issue(session, keyring, app_settings, clock, row.client_id, secret).access_token
    old_kid = jwt.get_unverified_header(before)["kid"]
    new_key = oauth.rotate_signing_key(session=session, provider=keyring.provider, clock=clock)
    after = _issue(session, keyring, app_settings, clock, row.client_id, secret).access_token
    assert jwt.get_unverified_header(after)["kid"] == new_key.kid != old_kid
    oauth.verify_token(session=session, token=before, settings=app_settings, clock=clock)  # still valid
    kids = {k["kid"] for k in oauth.jwks(session=session, settings=app_settings, clock=clock)["keys"]}
    assert kids == {old_kid, new_key.kid}
    clock.advance(minutes=app_settings.access_token_minutes + 6)
    kids = {k["kid"] for k in oauth.jwks(session=session, settings=app_settings, clock=clock)["keys"]}
    assert kids == {new_key.kid}  # the retired key leaves the JWKS once its tokens are dead
    key = oauth.jwks(session=session, settings=app_settings, clock=clock)["keys"][0]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert "d" not in key


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_tokens_are_refused(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    token = _issue(session, keyring, app_settings, clock, row.client_id, secret, "ingest").access_token
    head, body, sig = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = [
        f"{head}.{_b64({**claims, 'scope': 'ingest search erase'})}.{sig}",  # scope widened
        f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': jwt.get_unverified_header(token)['kid']})}.{body}.",
        f"{head}.{body}.{sig[:-4]}AAAA",
        jwt.encode(
            claims,
            "a-shared-secret-that-is-long-enough",
            algorithm="HS256",
            headers={"kid": jwt.get_unverified_header(token)["kid"]},
        ),
        "eyJ.not.jwt",
    ]
    for bad in forged:
        with pytest.raises(Unauthorized):
            oauth.verify_token(session=session, token=bad, settings=app_settings, clock=clock)


def test_token_of_a_client_moved_to_another_tenant_is_refused(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    client: tuple[OAuthClient, str],
) -> None:
    row, secret = client
    token = _issue(session, keyring, app_settings, clock, row.client_id, secret).access_token
    row.tenant_id = create_tenant(session, keyring, slug="elsewhere").id
    session.flush()
    with pytest.raises(Unauthorized):
        oauth.verify_token(session=session, token=token, settings=app_settings, clock=clock)
