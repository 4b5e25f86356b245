"""HTTP endpoints of the customer-facing bot: messages, caller verification, token keys, handoff queue.

Credentials: the integration (the chat widget's backend, the telephony system) authenticates with an
API key or OAuth client holding the ``bot`` scope; the customer is proven by what it forwards -- the
shop's signed session token for chat, the call-session credential for calls. The customer's own
browser never holds a Guardline credential.
"""

from __future__ import annotations

import threading
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool

from guardline.access.roles import Permission
from guardline.api.deps import Work, require
from guardline.audit.recorder import Recorder
from guardline.bot import chat, handoffs, identity
from guardline.bot.schemas import (
    BotMessageCreate,
    BotMessageRead,
    BotReplyRead,
    CallSessionRead,
    CallVerificationCheck,
    CallVerificationCreate,
    CallVerificationRead,
    HandoffClaim,
    HandoffRead,
    TokenKeyCreate,
    TokenKeyRead,
)
from guardline.bot.service import BotReply
from guardline.conversations import grouped, service
from guardline.conversations.classification import Level
from guardline.errors import Unauthorized
from guardline.guard import Action

router = APIRouter(prefix="/v1", tags=["bot"])

BotWork = Annotated[Work, Depends(require(Permission.BOT))]
KeyAdmin = Annotated[Work, Depends(require(Permission.CREDENTIAL_MANAGE))]
Queue = Annotated[Work, Depends(require(Permission.CASE_ASSIGN, Permission.CONVERSATION_READ_ASSIGNED))]
_RUNTIME_LOCK = threading.Lock()


def get_runtime(app: FastAPI) -> chat.Runtime:
    """The app's bot runtime (guards with their rate counts, knowledge, model), built on first use."""
    runtime: chat.Runtime | None = getattr(app.state, "bot_runtime", None)
    if runtime is None:
        with _RUNTIME_LOCK:
            runtime = getattr(app.state, "bot_runtime", None)
            if runtime is None:
                runtime = chat.runtime_from(app.state.settings)
                app.state.bot_runtime = runtime
    return runtime


def _reply_read(reply: BotReply) -> BotReplyRead:
    return BotReplyRead(
        text=reply.text,
        body=reply.body,
        label=reply.label,
        lang=reply.lang,
        kind=reply.kind.value,
        intent=reply.intent.value,
        handoff=reply.handoff,
        offer_handoff=reply.offer_handoff,
    )


@router.post("/bot/messages", summary="A customer's message to the bot; the guarded, AI-labeled reply")
async def post_bot_message(body: BotMessageCreate, work: BotWork, request: Request) -> BotMessageRead:
    runtime = get_runtime(request.app)
    recorder: Recorder = request.app.state.recorder
    tenant = work.tenant
    try:
        verified = await work.run(
            lambda ctx: chat.identify(ctx, customer_token=body.customer_token, call_session=body.call_session)
        )
    except Unauthorized as exc:
        await work.arecord(
            work.event(
                "bot.customer_auth",
                result="failure",
                details={
                    "kind": "call_session" if body.call_session else "customer_token",
                    "reason": getattr(exc, "code", "missing"),
                },
            ),
        )
        exc.audited = True  # bot.customer_auth is its record
        raise
    incoming = chat.Incoming(
        text=body.text,
        lang=body.lang,
        conversation_id=body.conversation_id,
        conversation_ref=body.conversation_ref,
        source_ip=body.source_ip,
    )
    decision = chat.screen(
        runtime, tenant_slug=tenant.slug, verified=verified, principal=work.principal, incoming=incoming
    )
    if not decision.allowed:
        await work.arecord(
            chat.guard_event(work.principal, tenant.id, decision, stage="input", request_id=work.request_id)
        )
        limited = chat.rate_limited(decision)
        if limited is not None:
            raise limited
        refusal = chat.labeled(
            chat.REFUSALS["input"][chat.lang_of(body.text, body.lang)],
            chat.lang_of(body.text, body.lang),
            verified.channel,
        )
        return BotMessageRead(
            conversation_id=body.conversation_id,
            message_id=None,
            reply_id=None,
            reply=_reply_read(refusal),
            label=refusal.label,
            blocked="input",
            guard_category=decision.category.value if decision.category else None,
        )
    policy = service.tenant_policy(tenant)
    analyzed = service.analyze(body.text, body.lang, policy)
    # The customer's message is audited in the transaction that stores it, as any ingested message is:
    # what happens to the rest of the turn (a model that times out, a failed second transaction)
    # cannot leave it stored without its record.
    pending = await work.run(
        lambda ctx: chat.begin_turn(ctx, runtime, verified=verified, incoming=incoming, analyzed=analyzed),
        audit=lambda p: [
            grouped.ingest_event(
                work.event("message.ingest"),
                message_id=p.message_id,
                customer_id=p.customer_id,
                level=Level(analyzed.level).label,
                entity_types=(e.type for e in analyzed.entities),
            )
        ],
    )
    if pending.prompt is not None:
        reply, model = await run_in_threadpool(chat.phrase, runtime, pending, tenant.slug)
    else:
        reply, model = pending.reply, "off"
    final, out = chat.check_output(runtime, pending, reply)
    analyzed_reply = service.analyze(final.text, final.lang, policy)
    reply_id, handoff_id, recorded = await work.run(
        lambda ctx: chat.finish_turn(
            ctx,
            recorder=recorder,
            principal=work.principal,
            pending=pending,
            reply=final,
            analyzed_reply=analyzed_reply,
            model=model,
            request_id=work.request_id,
        )
    )
    recorder.committed(recorded)
    if out.action is not Action.ALLOW:
        await work.arecord(
            chat.guard_event(
                work.principal,
                tenant.id,
                out,
                stage="output",
                conversation_id=pending.conversation_id,
                customer_id=pending.customer_id,
                request_id=work.request_id,
            ),
        )
    return BotMessageRead(
        conversation_id=pending.conversation_id,
        message_id=pending.message_id,
        reply_id=reply_id,
        reply=_reply_read(final),
        label=final.label,
        blocked="output" if out.action is Action.BLOCK else None,
        guard_category=out.category.value if out.category else None,
        model=model,
        handoff_id=handoff_id,
    )


# -- caller verification ---------------------------------------------------------------------------


@router.post("/bot/call-verifications", status_code=201, summary="Send a one-time code to a caller's number")
async def start_call_verification(
    body: CallVerificationCreate, work: BotWork, request: Request
) -> CallVerificationRead:
    settings = work.settings
    runtime = get_runtime(request.app)

    def operation(ctx: service.Context) -> identity.StartedVerification:
        return identity.start_verification(
            ctx,
            caller_number=body.caller_number,
            customer_ref=body.customer_ref,
            minutes=settings.bot_code_minutes,
        )

    started = await work.run(
        operation,
        audit=lambda v: [
            work.event("bot.call_verify_start", object_type="call_verification", object_id=v.id)
        ],
    )
    # Committed: now the code may go out (in the pool: a gateway is a network call). One that does not
    # is withdrawn and recorded, and the caller is told to start again.
    try:
        await run_in_threadpool(
            identity.send_code,
            sender=runtime.sms,
            tenant=work.tenant,
            started=started,
            minutes=settings.bot_code_minutes,
        )
    except identity.SmsUnavailable as exc:
        reason = exc.reason
        await work.run(
            lambda ctx: identity.withdraw_verification(ctx, verification_id=started.id),
            audit=lambda _: [
                work.event(
                    "bot.call_verify_send",
                    result="failure",
                    object_type="call_verification",
                    object_id=started.id,
                    details={"reason": reason},
                )
            ],
        )
        raise
    return CallVerificationRead(
        verification_id=started.id,
        expires_at=started.expires_at,
        demo_code=started.code if settings.bot_demo_codes else None,
    )


@router.post("/bot/call-verifications/verify", summary="Check a caller's code; a call-session credential")
async def verify_call(body: CallVerificationCheck, work: BotWork) -> CallSessionRead:
    settings = work.settings
    outcome = await work.run(
        lambda ctx: identity.verify_code(
            ctx,
            verification_id=body.verification_id,
            code=body.code,
            max_attempts=settings.bot_code_attempts,
            session_minutes=settings.bot_call_session_minutes,
        )
    )
    await work.arecord(
        work.event(
            "bot.call_verify",
            result="success" if outcome.issued else "failure",
            object_type="call_verification",
            object_id=body.verification_id,
            customer_id=outcome.customer_id,
            details={"reason": outcome.reason},
        ),
    )
    if outcome.error is not None:
        raise outcome.error
    assert outcome.issued is not None
    issued = outcome.issued
    return CallSessionRead(
        call_session=issued.token, expires_at=issued.expires_at, customer_id=issued.customer_id
    )


# -- shop token keys -------------------------------------------------------------------------------


@router.post("/bot/token-keys", status_code=201, summary="Register a key the shop signs customer tokens with")
async def create_token_key(body: TokenKeyCreate, work: KeyAdmin) -> TokenKeyRead:
    def operation(ctx: service.Context) -> TokenKeyRead:
        row = identity.register_key(
            session=ctx.session,
            provider=ctx.keyring.provider,
            tenant=ctx.tenant,
            kid=body.kid,
            algorithm=body.algorithm,
            secret=body.secret,
            public_key=body.public_key,
            audience=body.audience,
            issuer=body.issuer,
            clock=ctx.clock,
        )
        return TokenKeyRead.model_validate(row)

    return await work.run(
        operation,
        audit=lambda k: [
            work.event(
                "bot.token_key_create",
                object_type="token_key",
                object_id=k.id,
                details={"algorithm": k.algorithm},
            )
        ],
    )


@router.get("/bot/token-keys", summary="The shop's customer-token keys (no secrets)")
async def list_token_keys(work: KeyAdmin) -> list[TokenKeyRead]:
    return await work.run(
        lambda ctx: [
            TokenKeyRead.model_validate(r) for r in identity.list_keys(session=ctx.session, tenant=ctx.tenant)
        ]
    )


@router.delete("/bot/token-keys/{key_id}", summary="Revoke a customer-token key")
async def revoke_token_key(key_id: uuid.UUID, work: KeyAdmin) -> TokenKeyRead:
    return await work.run(
        lambda ctx: TokenKeyRead.model_validate(
            identity.revoke_key(session=ctx.session, tenant=ctx.tenant, key_id=key_id, clock=ctx.clock)
        ),
        audit=lambda k: [work.event("bot.token_key_revoke", object_type="token_key", object_id=k.id)],
    )


# -- the handoff queue -----------------------------------------------------------------------------


@router.get("/handoffs", summary="Conversations the bot handed to a person (open first, oldest first)")
async def list_handoffs(
    work: Queue,
    status: Annotated[str | None, Query(description="open (default), claimed or resolved")] = "open",
) -> list[HandoffRead]:
    return await work.run(
        lambda ctx: [
            HandoffRead.model_validate(r)
            for r in handoffs.list_queue(session=ctx.session, tenant_id=ctx.tenant.id, status=status)
        ]
    )


@router.post("/handoffs/{handoff_id}/claim", summary="Take a handed-off conversation (assigns the case)")
async def claim_handoff(handoff_id: uuid.UUID, work: Queue, body: HandoffClaim | None = None) -> HandoffRead:
    def operation(ctx: service.Context) -> HandoffRead:
        row = handoffs.claim(
            session=ctx.session,
            principal=work.principal,
            tenant_id=ctx.tenant.id,
            handoff_id=handoff_id,
            user_id=body.user_id if body else None,
            clock=ctx.clock,
        )
        return HandoffRead.model_validate(row)

    return await work.run(
        operation,
        audit=lambda h: [
            work.event(
                "handoff.claim",
                object_type="handoff",
                object_id=h.id,
                customer_id=h.customer_id,
                details={"agent": str(h.claimed_by)},
            )
        ],
    )


@router.post(
    "/handoffs/{handoff_id}/resolve",
    summary="Hand the conversation back to the bot (the claiming agent, or a supervisor)",
)
async def resolve_handoff(handoff_id: uuid.UUID, work: Queue) -> HandoffRead:
    return await work.run(
        lambda ctx: HandoffRead.model_validate(
            handoffs.resolve(
                session=ctx.session,
                principal=work.principal,
                tenant_id=ctx.tenant.id,
                handoff_id=handoff_id,
                clock=ctx.clock,
            )
        ),
        audit=lambda h: [
            work.event("handoff.resolve", object_type="handoff", object_id=h.id, customer_id=h.customer_id)
        ],
    )
