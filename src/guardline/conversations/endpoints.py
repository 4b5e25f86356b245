"""HTTP endpoints of the conversation service: ingest chats and calls, read masked, search, erase."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from guardline.access.cases import ensure_can_read
from guardline.access.roles import Permission
from guardline.api.deps import Work, require
from guardline.audit.chain import Event
from guardline.conversations import deidentified, grouped, service
from guardline.conversations.classification import Level
from guardline.conversations.models import Call, Conversation, Message
from guardline.conversations.schemas import (
    CallCreate,
    CallRead,
    ConversationRead,
    EntityRead,
    ErasureRead,
    MessageBatchCreate,
    MessageBatchRead,
    MessageCreate,
    MessageRead,
    RecordingRead,
    SearchRequest,
    SearchResult,
)
from guardline.errors import BadInput, PayloadTooLarge

router = APIRouter(prefix="/v1", tags=["conversations"])

Ingest = Annotated[Work, Depends(require(Permission.INGEST))]
Read = Annotated[Work, Depends(require(Permission.CONVERSATION_READ, Permission.CONVERSATION_READ_ASSIGNED))]
Search = Annotated[Work, Depends(require(Permission.SEARCH))]
Erase = Annotated[Work, Depends(require(Permission.CUSTOMER_ERASE))]
Training = Annotated[Work, Depends(require(Permission.TRAINING_READ))]


def message_read(m: Message | grouped.StoredMessage) -> MessageRead:
    """A stored message row, or a message just stored by a group commit (which has no call timings)."""
    return MessageRead(
        id=m.id,
        conversation_id=m.conversation_id,
        customer_id=m.customer_id,
        role=m.role,
        sent_at=m.sent_at,
        masked_text=m.masked_text,
        entities=[EntityRead.model_validate(e) for e in m.entities],
        classification=Level(m.classification).label,
        retain_until=m.retain_until,
        start_ms=getattr(m, "start_ms", None),
        end_ms=getattr(m, "end_ms", None),
    )


def call_read(call: Call, segments: list[Message]) -> CallRead:
    info = call.recording_info
    return CallRead(
        id=call.id,
        conversation_id=call.conversation_id,
        customer_id=call.customer_id,
        caller_masked=call.caller_masked,
        hotline=call.hotline,
        agent=call.agent,
        started_at=call.started_at,
        ended_at=call.ended_at,
        transcript_format=call.transcript_format,
        classification=Level(call.classification).label,
        segments=[message_read(m) for m in segments],
        recording=RecordingRead(
            format=info["format"],
            channels=info["channels"],
            sample_rate=info["sample_rate"],
            duration_ms=info["duration_ms"],
            redacted_spans_ms=call.redacted_spans_ms,
            original_kept=call.recording_original is not None,
        )
        if info is not None
        else None,
    )


def ingested(work: Work, messages: list[MessageRead]) -> list[Event]:
    """One audit event per stored message: who sent it in, where it went, its level, what was found."""
    return [
        grouped.ingest_event(
            work.event("message.ingest"),
            message_id=m.id,
            customer_id=m.customer_id,
            level=m.classification,
            entity_types=(e.type for e in m.entities),
        )
        for m in messages
    ]


_ingest = require(Permission.INGEST)
# The bodies of /messages and /calls are read by hand (for speed; JSON or multipart alike), so they are
# no FastAPI parameters and FastAPI would not put their models into the OpenAPI components that the
# bodies' $refs name: the app adds these (api/app.py).
DOCUMENTED_MODELS: tuple[type[BaseModel], ...] = (MessageCreate, CallCreate)
_MESSAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageCreate"}}},
    }
}


# The hot path: a message is analyzed on arrival (CPU only, on the event loop), then joins the next
# group commit, where one writer stores the messages of concurrent requests in one transaction, each
# all or nothing with its audit event (kit/groupcommit.py, conversations/grouped.py). The body is parsed
# and the answer serialized here, once, by pydantic's JSON parser: FastAPI's parameter machinery
# (json.loads, then validating the dict, then validating the returned model again before dumping it)
# cost about a tenth of the request. Batches, calls and reads, which can take much longer, run in the
# thread pool so they never stall the event loop.
@router.post(
    "/messages",
    status_code=201,
    summary="Ingest one chat message",
    response_model=MessageRead,
    responses={422: {"description": "The body is not a valid message (the input is never echoed)"}},
    openapi_extra=_MESSAGE_BODY,
)
async def post_message(request: Request) -> Response:
    work = await _ingest(request)
    try:
        body = MessageCreate.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
    pending = grouped.prepare(
        keyring=work.keyring, tenant=work.tenant, payload=body, audit=work.event("message.ingest")
    )
    stored = await request.app.state.messages.submit(pending)
    return Response(message_read(stored).model_dump_json(), status_code=201, media_type="application/json")


# The route authenticates inside (see above) rather than through a declared dependency; it still
# declares its rule, for check_routes and the authorization matrix.
post_message.guardline_permissions = _ingest.guardline_permissions  # type: ignore[attr-defined]


@router.post("/messages/batch", status_code=201, summary="Ingest chat messages, all or nothing")
def post_messages(body: MessageBatchCreate, work: Ingest, request: Request) -> MessageBatchRead:
    limit = request.app.state.settings.max_batch
    if len(body.messages) > limit:
        raise BadInput(f"messages: at most {limit} per batch")

    # Analyzed once; only the transaction is tried again when a concurrent request created one of
    # the batch's new customers or conversations a moment ago (the next try finds those rows, and
    # takes locks so that it does not lose the same race again: grouped.store_all).
    items = [grouped.prepare(keyring=work.keyring, tenant=work.tenant, payload=p) for p in body.messages]

    def store(ctx: service.Context, *, lock: bool) -> MessageBatchRead:
        return MessageBatchRead(messages=[message_read(m) for m in grouped.store_all(ctx, items, lock=lock)])

    return grouped.until_won(
        lambda attempt: work(
            functools.partial(store, lock=attempt > 0), audit=lambda b: ingested(work, b.messages)
        ),
        tries=_BATCH_TRIES,
        conflict="concurrent requests kept creating the same customers or conversations; "
        "send the batch again",
    )


_BATCH_TRIES = 5


_CALL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CallCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["metadata"],
                    "properties": {
                        "metadata": {"type": "string", "description": "CallCreate as a JSON string"},
                        "recording": {"type": "string", "format": "binary", "description": "WAV recording"},
                    },
                }
            },
        },
    }
}


async def _call_payload(request: Request) -> tuple[CallCreate, bytes | None]:
    content_type = request.headers.get("content-type", "")
    recording: bytes | None = None
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        limit = request.app.state.settings.max_audio_bytes
        async with request.form(
            max_files=1, max_fields=2, max_part_size=request.app.state.settings.max_body_bytes
        ) as form:
            metadata = form.get("metadata")
            upload = form.get("recording")
            if not isinstance(metadata, str):
                raise BadInput("multipart call: a 'metadata' field with the call as JSON is required")
            if upload is not None:
                if isinstance(upload, str):
                    raise BadInput("multipart call: 'recording' must be a file")
                recording = await upload.read(limit + 1)
                if len(recording) > limit:
                    raise PayloadTooLarge(f"recording larger than {limit} bytes")
        raw = metadata.encode()
    elif content_type.startswith("application/json"):
        raw = await request.body()
    else:
        raise BadInput("content type must be application/json, or multipart/form-data with a recording")
    try:
        return CallCreate.model_validate_json(raw), recording
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _validation_error(exc: ValidationError) -> BadInput:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return BadInput(f"{where}: {first['msg']} ({exc.error_count()} problem(s) in all)")


@router.post(
    "/calls", status_code=201, summary="Ingest a call: transcript and optional WAV", openapi_extra=_CALL_BODY
)
async def post_call(request: Request, work: Ingest) -> CallRead:
    payload, recording = await _call_payload(request)

    def ingest(ctx: service.Context) -> CallRead:
        return _stored_read(service.ingest_call(ctx, payload, recording))

    def audit(call: CallRead) -> list[Event]:
        return [
            work.event(
                "call.ingest",
                object_type="call",
                object_id=call.id,
                customer_id=call.customer_id,
                details={
                    "level": call.classification,
                    "segments": len(call.segments),
                    "recording": call.recording is not None,
                    "redacted_spans": len(call.recording.redacted_spans_ms) if call.recording else 0,
                },
            )
        ]

    return await run_in_threadpool(lambda: work(ingest, audit=audit))


@router.get("/conversations/{conversation_id}", summary="A conversation with its masked messages")
def get_conversation(conversation_id: uuid.UUID, work: Read) -> ConversationRead:
    def read(ctx: service.Context) -> ConversationRead:
        conversation, messages = service.get_conversation(ctx, conversation_id)
        ensure_can_read(session=ctx.session, principal=work.principal, customer_id=conversation.customer_id)
        return _conversation_read(conversation, messages)

    result = work(read)
    work.record(
        work.event(
            "conversation.read",
            object_type="conversation",
            object_id=result.id,
            customer_id=result.customer_id,
            details={"messages": len(result.messages), "level": result.classification},
        )
    )
    return result


def _conversation_read(conversation: Conversation, messages: list[Message]) -> ConversationRead:
    return ConversationRead(
        id=conversation.id,
        customer_id=conversation.customer_id,
        channel=conversation.channel,
        classification=Level(conversation.classification).label,
        started_at=conversation.started_at,
        last_message_at=conversation.last_message_at,
        messages=[message_read(m) for m in messages],
    )


def _stored_read(stored: service.StoredCall) -> CallRead:
    return call_read(stored.call, stored.segments)


@router.get("/calls/{call_id}", summary="A call with its masked transcript")
def get_call(call_id: uuid.UUID, work: Read) -> CallRead:
    def read(ctx: service.Context) -> CallRead:
        stored = service.get_call(ctx, call_id)
        ensure_can_read(session=ctx.session, principal=work.principal, customer_id=stored.call.customer_id)
        return _stored_read(stored)

    result = work(read)
    work.record(
        work.event("call.read", object_type="call", object_id=result.id, customer_id=result.customer_id)
    )
    return result


@router.get(
    "/calls/{call_id}/recording",
    summary="The redacted recording (WAV)",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
def get_recording(call_id: uuid.UUID, work: Read) -> Response:
    def read(ctx: service.Context) -> tuple[bytes, uuid.UUID]:
        stored = service.get_call(ctx, call_id)
        ensure_can_read(session=ctx.session, principal=work.principal, customer_id=stored.call.customer_id)
        return service.redacted_recording(ctx, call_id), stored.call.customer_id

    wav, customer_id = work(read)
    work.record(work.event("recording.read", object_type="call", object_id=call_id, customer_id=customer_id))
    return Response(wav, media_type="audio/wav")


@router.post("/search", summary="Find customers and conversations by phone, order number or customer ref")
def post_search(body: SearchRequest, work: Search) -> SearchResult:
    customers, conversations = work(lambda ctx: service.search(ctx, kind=body.kind, value=body.value))
    work.record(work.event("customer.search", details={"kind": body.kind, "hits": len(customers)}))
    return SearchResult(customers=customers, conversations=conversations)


@router.delete("/customers/{customer_id}", summary="Erase a customer (crypto-shred their data key)")
def delete_customer(customer_id: uuid.UUID, work: Erase) -> ErasureRead:
    customer, destroyed = work(
        lambda ctx: service.erase_customer(ctx, customer_id),
        audit=lambda done: [
            work.event(
                "customer.erase",
                object_type="customer",
                object_id=done[0].id,
                customer_id=done[0].id,
                details={"data_keys_destroyed": done[1]},
            )
        ],
    )
    assert customer.erased_at is not None
    return ErasureRead(customer_id=customer.id, erased_at=customer.erased_at, data_keys_destroyed=destroyed)


@router.get("/training/messages", summary="De-identified messages for model training (ML engineers)")
def training_messages(
    work: Training,
    limit: Annotated[int, Query(ge=1, le=deidentified.MAX_LIMIT)] = 100,
    before: Annotated[datetime | None, Query(description="Page: messages sent before this time.")] = None,
) -> list[dict[str, Any]]:
    rows = work(lambda ctx: deidentified.messages(ctx, limit=limit, before=before))
    work.record(work.event("training.read", details={"rows": len(rows)}))
    return rows
