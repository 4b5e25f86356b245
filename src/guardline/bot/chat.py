"""One customer message through the guarded bot: limits, input guard, store, bot (+ model), output guard.

The order matters. Rate limits and the input guard run before anything is stored (a refused message
leaves an audit event with the guard's reason, never its text). The message is stored like any other
(masked, classified, sealed with the customer's data key) and masked once more with placeholders from
the conversation's vault: that is all the bot, its tools' arguments and an optional model ever see.
The vault is persisted sealed with the customer's data key, one per conversation, so placeholder
numbering carries across turns and erasing the customer erases it. The reply passes the output guard
with this customer's own values (what they said, what their own orders hold) and is stored as the
bot's message; a handoff puts the conversation into the agent queue.

Three short transactions instead of one: the model call, which may take seconds, holds no database
lock, and audit events of refusals are written durably whatever happens to the turn.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx2 as httpx
from sqlalchemy.exc import IntegrityError

from guardline.access.principal import Principal
from guardline.audit.chain import Event, address_or_none
from guardline.audit.recorder import Recorded, Recorder
from guardline.bot import handoffs
from guardline.bot.commerce import DemoCommerce, HttpCommerce
from guardline.bot.identity import (
    DemoSmsSender,
    SmsSender,
    VerifiedCustomer,
    get_sms_sender,
    open_field,
    resolve_call_session,
    seal_field,
    verify_customer_token,
)
from guardline.bot.intents import Intent, get_classifier
from guardline.bot.knowledge import (
    FaqEntry,
    KnowledgeBase,
    KnowledgeStore,
    demo_knowledge_base,
    read_faq_file,
)
from guardline.bot.llm import ChatModel, ModelUnavailable, Prompt, build_prompt, model_from, restore_answer
from guardline.bot.models import BotConversation
from guardline.bot.service import Bot, BotContext, BotReply, ReplyKind, Turn
from guardline.bot.templates import TEMPLATES
from guardline.bot.text import Lang, detect_lang
from guardline.config import Settings
from guardline.conversations import service
from guardline.conversations.classification import Level
from guardline.conversations.models import Customer
from guardline.conversations.service import Analyzed, Context
from guardline.errors import BadInput, ConfigurationError, Gone, GuardlineError, TooManyRequests, Unauthorized
from guardline.guard import Action, Category, GuardDecision, InputGuard, OutputGuard
from guardline.guard.service import input_guard_from, output_guard_from
from guardline.pii import PlaceholderVault, anonymize

T = TypeVar("T")
# Replies a model may phrase: answers, templates and "I don't know". Tool results and handoffs stay
# exactly as the model-free bot built them (facts from the shop's system, the queue's promise).
MODEL_KINDS = frozenset({ReplyKind.ANSWER, ReplyKind.TEMPLATE, ReplyKind.UNKNOWN})
MAX_HISTORY = 40
REFUSALS: dict[str, dict[Lang, str]] = {
    "input": {
        "zh": "抱歉，这条消息我无法处理。您可以换个说法描述您的问题，或回复“转人工”联系人工客服。",
        "en": "Sorry, I can't process that message. Please rephrase it, or say 'agent' to reach a person.",
    },
    "output": {
        "zh": "抱歉，这个问题我暂时无法回答。如需帮助，请回复“转人工”联系人工客服。",
        "en": "Sorry, I can't answer that right now. Say \"agent\" if you'd like to talk to a person.",
    },
}


def labeled(body: str, lang: Lang, channel: Literal["chat", "call"]) -> BotReply:
    """A fixed reply with the AI label (BotReply adds it)."""
    return BotReply(
        body=body, lang=lang, intent=Intent.FAQ, confidence=0.0, kind=ReplyKind.TEMPLATE, channel=channel
    )


# -- the runtime: one per app ----------------------------------------------------------------------


@dataclass
class Runtime:
    settings: Settings
    knowledge: KnowledgeStore
    input_guard: InputGuard
    output_guard: OutputGuard
    model: ChatModel | None
    sms: SmsSender
    # Tenants with a model of their own (GUARDLINE_LLM_TENANTS): slug -> model, or None for "no model".
    tenant_models: dict[str, ChatModel | None] = field(default_factory=dict)
    # Tests route the shop API through their own transport; production uses the network.
    shop_transport: httpx.BaseTransport | None = None

    def model_for(self, tenant: str) -> ChatModel | None:
        return self.tenant_models[tenant] if tenant in self.tenant_models else self.model


def load_knowledge(directory: Path) -> KnowledgeStore:
    """The demo FAQ, and each shop's files in ``directory`` (``<slug>.csv``, ``<slug>.md`` ...)."""
    knowledge = KnowledgeStore()
    knowledge.put(demo_knowledge_base())
    if not directory.is_dir():
        return knowledge
    by_shop: dict[str, list[FaqEntry]] = {}
    try:
        for path in sorted(directory.iterdir()):
            if path.suffix.lower() in (".csv", ".json", ".md") and path.is_file():
                by_shop.setdefault(path.stem, []).extend(read_faq_file(path))
        for shop, entries in by_shop.items():
            knowledge.put(KnowledgeBase(shop=shop, entries=entries))
    except GuardlineError as exc:  # fail at start-up, naming the file's problem, not on every message
        raise ConfigurationError(f"GUARDLINE_BOT_FAQ_DIR ({directory}): {exc.message}") from None
    return knowledge


def runtime_from(settings: Settings) -> Runtime:
    knowledge = load_knowledge(settings.bot_faq_dir or settings.data_dir / "faq")
    get_classifier()  # trained from the shipped utterances once per process: now, not on a message
    return Runtime(
        settings=settings,
        knowledge=knowledge,
        input_guard=input_guard_from(settings),
        output_guard=output_guard_from(settings),
        model=model_from(settings),
        tenant_models={slug: model_from(settings, slug) for slug in settings.llm_tenants},
        sms=get_sms_sender(settings.bot_sms_sender) if settings.bot_sms_sender != "demo" else DemoSmsSender(),
    )


# -- audit ----------------------------------------------------------------------------------------


def event(
    principal: Principal, tenant_id: uuid.UUID, action: str, *, request_id: str | None = None, **fields: Any
) -> Event:
    actor_type, actor_id = principal.audit_actor()
    return Event(
        action=action,
        actor_type=actor_type,
        actor_id=actor_id,
        tenant_id=tenant_id,
        source_ip=address_or_none(principal.source_ip),
        request_id=request_id,
        **fields,
    )


# -- the turn --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    text: str
    lang: str | None = None
    conversation_id: uuid.UUID | None = None
    conversation_ref: str | None = None
    source_ip: str | None = None


@dataclass(frozen=True, slots=True)
class TurnResult:
    conversation_id: uuid.UUID | None
    message_id: uuid.UUID | None
    reply_id: uuid.UUID | None
    reply: BotReply
    blocked: Literal["input", "output"] | None = None
    guard: GuardDecision | None = None
    model: Literal["used", "fallback", "off"] = "off"
    handoff_id: uuid.UUID | None = None
    sanitized: bool = False


@dataclass
class _Pending:
    """What the first transaction leaves for the model call and the second transaction."""

    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    message_id: uuid.UUID
    reply: BotReply
    vault: PlaceholderVault
    masked: str
    prompt: Prompt | None
    own_values: list[str] = field(default_factory=list)
    intent: Intent | None = None


def identify(ctx: Context, *, customer_token: str | None, call_session: str | None) -> VerifiedCustomer:
    if (customer_token is None) == (call_session is None):
        raise Unauthorized("send exactly one of customer_token (chat) or call_session (calls)")
    if customer_token is not None:
        return verify_customer_token(
            session=ctx.session,
            provider=ctx.keyring.provider,
            tenant=ctx.tenant,
            token=customer_token,
            clock=ctx.clock,
        )
    assert call_session is not None
    return resolve_call_session(ctx, call_session)


def _source(incoming: Incoming, principal: Principal) -> str | None:
    if incoming.source_ip is None:
        return principal.source_ip
    try:
        return str(ipaddress.ip_address(incoming.source_ip))
    except ValueError:
        raise BadInput("source_ip: not an IP address") from None


def screen(
    runtime: Runtime,
    *,
    tenant_slug: str,
    verified: VerifiedCustomer,
    principal: Principal,
    incoming: Incoming,
) -> GuardDecision:
    """Rate limits (customer, source address, credential) and the input guard, before anything is stored."""
    return runtime.input_guard.scan(
        incoming.text,
        customer=f"{tenant_slug}:{verified.kind}:{verified.ref}",
        source=_source(incoming, principal),
        credential=f"{tenant_slug}:{principal.kind.value}:{principal.id}",
        lang=incoming.lang,
    )


def _turns(history: Sequence[dict[str, Any]]) -> list[Turn]:
    out = []
    for h in history:
        out.append(
            Turn(
                role=h["role"],
                intent=Intent(h["intent"]) if h.get("intent") else None,
                kind=ReplyKind(h["kind"]) if h.get("kind") else None,
                order_no=h.get("order_no"),
                offered_handoff=bool(h.get("offered_handoff")),
            )
        )
    return out


def _turn_dict(turn: Turn) -> dict[str, Any]:
    return {
        "role": turn.role,
        "intent": turn.intent.value if turn.intent else None,
        "kind": turn.kind.value if turn.kind else None,
        "order_no": turn.order_no,
        "offered_handoff": turn.offered_handoff,
    }


def _vault_of(ctx: Context, customer: Customer, state: BotConversation) -> PlaceholderVault:
    if state.vault_sealed is None or state.dek_version is None:
        return PlaceholderVault()
    raw = open_field(
        ctx,
        customer,
        state.dek_version,
        "bot_conversations",
        state.conversation_id,
        "vault",
        state.vault_sealed,
    )
    return PlaceholderVault.from_dict(json.loads(raw))


def _vault_values(vault: PlaceholderVault) -> list[str]:
    entries = vault.to_dict()["entries"]
    assert isinstance(entries, list)
    return [str(e["value"]) for e in entries]


def begin_turn(
    ctx: Context,
    runtime: Runtime,
    *,
    verified: VerifiedCustomer,
    incoming: Incoming,
    analyzed: Analyzed,
    tools_factory: Callable[[Context, Customer, PlaceholderVault], Any] | None = None,
) -> _Pending:
    """Store the customer's message, mask it for the bot, let the bot (and its tools) reply."""
    customer, key = service.get_or_create_customer(ctx, kind=verified.kind, ref=verified.ref)
    if customer.erased_at is not None:
        raise Gone("this customer was erased; their conversations no longer exist")
    now = ctx.clock.now()
    conversation = service.get_or_create_conversation(
        ctx,
        customer=customer,
        channel=verified.channel,
        conversation_id=incoming.conversation_id,
        ref=incoming.conversation_ref,
        at=now,
    )
    (message,) = service.store_messages(
        ctx,
        [
            service.NewMessage(
                customer=customer,
                conversation=conversation,
                key=key,
                role="customer",
                sent_at=now,
                lang=incoming.lang,
                analyzed=analyzed,
            )
        ],
    )
    state = ctx.session.get(BotConversation, conversation.id, with_for_update=True)
    if state is None:
        state = BotConversation(
            conversation_id=conversation.id,
            tenant_id=ctx.tenant.id,
            customer_id=customer.id,
            history=[],
            updated_at=now,
        )
        try:
            with ctx.session.begin_nested():
                ctx.session.add(state)
                ctx.session.flush()
        except IntegrityError:  # the conversation's first two messages arrived together
            state = ctx.session.get(BotConversation, conversation.id, with_for_update=True)
            assert state is not None
    vault = _vault_of(ctx, customer, state)
    masked = (
        anonymize(analyzed.text, analyzed.entities, default="placeholder", vault=vault).text
        if analyzed.entities
        else analyzed.text
    )
    lang: Lang | None = "en" if state.lang == "en" else "zh" if state.lang == "zh" else None
    seen: list[str] = []  # values the tools returned: the customer's own, for the output guard
    if handoffs.active(session=ctx.session, conversation_id=conversation.id) is not None:
        # A person has the conversation: the message is stored for them, and neither the bot, its
        # tools nor a model sees it until the handoff is resolved.
        reply = _with_agent(lang or detect_lang(analyzed.text), verified.channel)
    else:
        tools = (tools_factory or _tools_factory(runtime, verified))(ctx, customer, vault)
        bot = Bot(knowledge=runtime.knowledge, tools=tools, classifier=get_classifier())
        context = BotContext(
            shop=ctx.tenant.slug,
            customer=tools.customer_key,
            lang=lang,
            channel=verified.channel,
            history=_turns(state.history),
        )
        try:
            reply = bot.reply(masked, context=context)
        finally:
            if isinstance(tools, HttpCommerce):
                tools.close()
        seen = list(tools.seen.values)
    prompt = None
    if runtime.model_for(ctx.tenant.slug) is not None and reply.kind in MODEL_KINDS:
        prompt = build_prompt(
            shop=ctx.tenant.name, lang=reply.lang, masked_message=masked, draft=reply.body, vault=vault
        )
    # The vault now holds every placeholder minted for this turn (the message's, the prompt's).
    if len(vault):
        state.vault_sealed = seal_field(
            ctx,
            key,
            "bot_conversations",
            conversation.id,
            "vault",
            json.dumps(vault.to_dict(), ensure_ascii=False).encode(),
        )
        state.dek_version = key.version if key is not None else 0
    state.updated_at = now
    ctx.session.flush()
    return _Pending(
        conversation_id=conversation.id,
        customer_id=customer.id,
        message_id=message.id,
        reply=reply,
        vault=vault,
        masked=masked,
        prompt=prompt,
        own_values=_vault_values(vault) + seen,
        intent=reply.intent,
    )


def _with_agent(lang: Lang, channel: Literal["chat", "call"]) -> BotReply:
    return BotReply(
        body=TEMPLATES["with_agent"][lang],
        lang=lang,
        intent=Intent.HUMAN_HANDOFF,
        confidence=1.0,
        kind=ReplyKind.WITH_AGENT,
        channel=channel,
    )


def _tools_factory(
    runtime: Runtime, verified: VerifiedCustomer
) -> Callable[[Context, Customer, PlaceholderVault], Any]:
    settings = runtime.settings

    def make(ctx: Context, customer: Customer, vault: PlaceholderVault) -> Any:
        if settings.bot_commerce == "http":
            if not settings.shop_api_url:
                raise ConfigurationError("GUARDLINE_SHOP_API_URL: required with GUARDLINE_BOT_COMMERCE=http")
            return HttpCommerce(
                base_url=settings.shop_api_url,
                api_key=settings.shop_api_key.get_secret_value() if settings.shop_api_key else None,
                verified=verified,
                customer_key=str(customer.id),
                vault=vault,
                timeout=settings.shop_api_timeout_seconds,
                transport=runtime.shop_transport,
            )
        return DemoCommerce(ctx, customer, vault)

    return make


def phrase(
    runtime: Runtime, pending: _Pending, tenant: str
) -> tuple[BotReply, Literal["used", "fallback", "off"]]:
    """The model's wording of the reply when one is configured and the reply is the model's kind."""
    model = runtime.model_for(tenant)
    if model is None or pending.prompt is None:
        return pending.reply, "off"
    try:
        answer = model.complete(pending.prompt.messages)
    except ModelUnavailable:
        return pending.reply, "fallback"
    return dataclasses.replace(
        pending.reply, body=restore_answer(answer, pending.vault, pending.reply.lang)
    ), "used"


def check_output(runtime: Runtime, pending: _Pending, reply: BotReply) -> tuple[BotReply, GuardDecision]:
    prompt = pending.prompt
    decision = runtime.output_guard.scan(
        reply.body,
        own_values=pending.own_values,
        system_prompt=prompt.system if prompt else None,
        canaries=(prompt.canary,) if prompt else (),
    )
    if decision.action is Action.BLOCK:
        return labeled(REFUSALS["output"][reply.lang], reply.lang, reply.channel), decision
    if decision.action is Action.SANITIZE and decision.text is not None:
        return dataclasses.replace(reply, body=decision.text), decision
    return reply, decision


def finish_turn(
    ctx: Context,
    *,
    recorder: Recorder,
    principal: Principal,
    pending: _Pending,
    reply: BotReply,
    analyzed_reply: Analyzed,
    model: str,
    request_id: str | None = None,
) -> tuple[uuid.UUID, uuid.UUID | None, list[Recorded]]:
    """Store the bot's reply, remember the turn, queue a handoff; audit events in the same transaction."""
    customer = ctx.session.get(Customer, pending.customer_id)
    assert customer is not None
    key = ctx.keyring.data_key(session=ctx.session, customer=customer) if ctx.encryption else None
    conversation = service.get_or_create_conversation(
        ctx,
        customer=customer,
        channel=reply.channel,
        conversation_id=pending.conversation_id,
        ref=None,
        at=ctx.clock.now(),
    )
    (stored,) = service.store_messages(
        ctx,
        [
            service.NewMessage(
                customer=customer,
                conversation=conversation,
                key=key,
                role="bot",
                sent_at=ctx.clock.now(),
                lang=reply.lang,
                analyzed=analyzed_reply,
            )
        ],
    )
    # Under lock: a turn of the same conversation that began meanwhile may be finishing too, and the
    # history written back must hold both (the state row, then the audit head: begin_turn's order).
    state = ctx.session.get(BotConversation, pending.conversation_id, with_for_update=True)
    assert state is not None
    customer_turn = Turn("customer", pending.intent, None, pending.reply.order_no)
    state.history = [*state.history, _turn_dict(customer_turn), _turn_dict(reply.as_turn())][-MAX_HISTORY:]
    state.lang = reply.lang
    state.updated_at = ctx.clock.now()
    events = [
        event(
            principal,
            ctx.tenant.id,
            "bot.reply",
            request_id=request_id,
            object_type="conversation",
            object_id=str(conversation.id),
            customer_id=customer.id,
            details={
                "kind": reply.kind.value,
                "intent": reply.intent.value,
                "level": Level(analyzed_reply.level).label,
                "model": model,
            },
        )
    ]
    handoff_id = None
    if reply.handoff and reply.handoff_summary is not None:
        queued = handoffs.enqueue(
            session=ctx.session,
            tenant_id=ctx.tenant.id,
            conversation_id=conversation.id,
            customer_id=customer.id,
            summary=reply.handoff_summary,
            clock=ctx.clock,
        )
        handoff_id = queued.id
        events.append(
            event(
                principal,
                ctx.tenant.id,
                "bot.handoff",
                request_id=request_id,
                object_type="handoff",
                object_id=str(queued.id),
                customer_id=customer.id,
                details={"reason": reply.handoff_summary.reason, "channel": reply.channel},
            )
        )
    ctx.session.flush()
    recorded = recorder.within(ctx.session, events)
    return stored.id, handoff_id, recorded


def _flat(record: dict[str, object]) -> dict[str, object]:
    """The guard's audit record in the log's shape (values are scalars or lists of scalars): each
    finding as ``category:score:signal+signal``."""
    findings = record.get("findings")
    out = {k: v for k, v in record.items() if k != "findings"}
    if isinstance(findings, list):
        out["findings"] = [
            f"{f['category']}:{f['score']}:{'+'.join(f['signals'])}"[:120]
            for f in findings
            if isinstance(f, dict)
        ]
    return out


def guard_event(
    principal: Principal,
    tenant_id: uuid.UUID,
    decision: GuardDecision,
    *,
    stage: Literal["input", "output"],
    conversation_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    request_id: str | None = None,
) -> Event:
    action = "bot.guard_sanitize" if decision.action is Action.SANITIZE else "bot.guard_block"
    return event(
        principal,
        tenant_id,
        action,
        request_id=request_id,
        result="denied" if decision.action is Action.BLOCK else "success",
        object_type="conversation" if conversation_id else None,
        object_id=str(conversation_id) if conversation_id else None,
        customer_id=customer_id,
        details={"stage": stage, **_flat(decision.to_audit())},
    )


def rate_limited(decision: GuardDecision) -> TooManyRequests | None:
    if decision.category is Category.RATE_LIMITED:
        return TooManyRequests(
            "rate limited: too many messages for this customer, address or credential", retry_after=60
        )
    return None


def lang_of(text: str, declared: str | None) -> Lang:
    if declared in ("zh", "en"):
        return declared  # type: ignore[return-value]
    return detect_lang(text, default="zh")
