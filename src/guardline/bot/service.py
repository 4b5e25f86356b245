"""The bot's reply flow without a model: intent, then a FAQ answer, a template, a commerce tool, or a person.

Every reply is labeled as AI-generated (``BotReply.ai_generated`` is always true and ``text`` always
carries the visible label) as China's 2025 measures for labeling AI-generated synthetic content
require. Asking for a human always works. The text reaching the bot is already masked, and a
handoff summary carries only intents, counts and order numbers, never message text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from guardline.bot.intents import MAX_TEXT_CHARS, Intent, IntentClassifier, IntentResult, get_classifier
from guardline.bot.knowledge import DEMO_SHOP, Hit, KnowledgeBase, KnowledgeStore, demo_knowledge_base
from guardline.bot.templates import (
    AI_LABEL,
    AI_SPOKEN_LABEL,
    HANDOFF_REASONS,
    INTENT_WORDS,
    STATUS_WORDS,
    TEMPLATES,
)
from guardline.bot.text import Lang, detect_lang, normalize
from guardline.bot.tools import AddressChangeOutcome, CommerceTools, Order, OrderStatus, ToolUnavailable
from guardline.errors import BadInput

Channel = Literal["chat", "call"]
HandoffReason = Literal[
    "customer_request", "complaint", "account_compromise", "unanswered", "tool_failure", "needs_agent"
]
# A FAQ entry tagged with the message's intent may answer at this lower confidence: the classifier
# and the retrieval agree on the topic.
TAGGED_MIN_CONFIDENCE = 0.2
# Consecutive "I don't know" replies after which the next one hands off instead.
MAX_UNANSWERED = 1
_TOOL_INTENTS = frozenset({Intent.ORDER_STATUS, Intent.SHIPPING, Intent.ADDRESS_CHANGE})
_ACTIVE = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.PENDING_PAYMENT)

# Order numbers survive masking (订单号 context tells the PII engine they are not phones).
_ORDER_NO = re.compile(
    r"(?:订单号?|单号|order\s*(?:no\.?|number|#)?)\s*(?:是|为|:|#)?\s*([a-z]{0,4}\d{6,24})\b|"
    r"(?<![a-z0-9*])([a-z]{0,4}\d{8,24})(?![a-z0-9*])",
    re.IGNORECASE,
)
_ADDRESS_REF = re.compile(r"[<＜]\s*ADDRESS_(\d{1,9})\s*[>＞]", re.IGNORECASE)
# The customer means their own order ("我的快递到哪了"), not the shop's policy ("包邮吗").
_OWN = re.compile(
    r"我的|我那|我买的|我下的|我这|我刚|我昨天|我上|到哪|在哪|到了没|还没到|没收到|签收|帮我查|查一下|查下|"
    r"\bmy\b|\bmine\b|where'?s|where is|\bi (?:ordered|bought|placed)|check on|look up"
)
# Short answers to "shall I get you a person?".
_YES = re.compile(
    r"^(?:好|好的|好滴|好啊|好吧|行|可以|需要|要|是|是的|对|嗯|嗯嗯|麻烦了|麻烦你了|转吧|转|"
    r"yes|yeah|yep|ok|okay|sure|please|yes please|ok please)[\s,.!。！，~]*(?:谢谢|thanks)?[\s.!。！]*$"
)
_NO = re.compile(
    r"^(?:不|不用|不用了|不需要|不要|算了|没事|没事了|先不用|no|nope|no thanks|not now)[\s,.!。！，~]*"
    r"(?:谢谢|thanks)?[\s.!。！]*$"
)
# The customer asks the bot to do something ("我要改地址"), not how it is done ("地址还能改吗").
_ACTION = re.compile(r"我想|我要|帮我|给我|麻烦|\bi (?:want|need|would like)|\bplease\b|can you|could you")
_COMPROMISE = re.compile(
    r"被盗|盗号|盗了|被人登|被登录|别人登|有人登|陌生人|不是我(?:下|买|操作|登)|没下过|没操作|被人用|被别人用|"
    r"\bhack|compromis|someone (?:else )?(?:logged|used|placed|got into|is using)|"
    r"didn'?t (?:place|make|order)|\bnot me\b"
)
_SMALL_TALK_KINDS = (
    (
        "identity",
        re.compile(
            r"机器人|真人|人工智能|你是谁|你叫|怎么称呼|"
            r"\bbot\b|robot|\bai\b|real person|who are you|your name"
        ),
    ),
    (
        "goodbye",
        re.compile(r"再见|拜拜|没事了|没别的|没问题了|就这样|晚安|\bbye\b|goodbye|see you|that'?s all"),
    ),
    ("thanks", re.compile(r"谢|辛苦|感谢|\bthank|\bthx\b|cheers")),
    (
        "greeting",
        re.compile(
            r"你好|您好|在吗|在不在|哈喽|嗨|早|喂|\bhi\b|\bhello\b|\bhey\b|good (?:morning|evening|afternoon)"
        ),
    ),
)


class ReplyKind(StrEnum):
    ANSWER = "answer"  # from the shop's knowledge base
    TEMPLATE = "template"  # fixed wording (greetings, safety advice, "please sign in")
    TOOL = "tool"  # built from a commerce tool's result
    TOOL_NEEDED = "tool_needed"  # a commerce tool would answer this, and none is configured
    HANDOFF = "handoff"  # passed to the agent queue
    WITH_AGENT = "with_agent"  # a person has the conversation (handoff open or claimed): the bot stays out
    UNKNOWN = "unknown"  # the bot does not know; a person is offered


@dataclass(frozen=True, slots=True)
class Turn:
    """What the bot remembers of an earlier turn: no text, only what it decided."""

    role: Literal["customer", "bot", "agent"]
    intent: Intent | None = None
    kind: ReplyKind | None = None
    order_no: str | None = None
    # The bot asked "shall I get you a person?": a plain "好的" / "yes" now means a handoff.
    offered_handoff: bool = False


@dataclass(frozen=True, slots=True)
class BotContext:
    shop: str = DEMO_SHOP
    # The authenticated customer's opaque reference; None means not signed in: no order tools.
    customer: str | None = None
    # The conversation's language so far; used when a message has no words to tell by.
    lang: Lang | None = None
    channel: Channel = "chat"
    history: Sequence[Turn] = ()


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """Which commerce tool would answer, with the arguments the bot found in the message."""

    name: Literal["list_orders", "get_order", "change_address"]
    order_no: str | None = None
    address_ref: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffSummary:
    """For the agent queue: why, what was asked, which orders; no message text, no personal values."""

    reason: HandoffReason
    intent: Intent
    lang: Lang
    channel: Channel
    customer_turns: int
    intents: tuple[Intent, ...]
    order_refs: tuple[str, ...]
    unanswered: int
    text: str


@dataclass(frozen=True, slots=True)
class BotReply:
    body: str
    lang: Lang
    intent: Intent
    confidence: float
    kind: ReplyKind
    channel: Channel = "chat"
    handoff: bool = False
    handoff_summary: HandoffSummary | None = None
    offer_handoff: bool = False
    tool_request: ToolRequest | None = None
    sources: tuple[str, ...] = ()  # FAQ entry ids the answer came from
    order_no: str | None = None
    rule: str | None = None

    @property
    def ai_generated(self) -> Literal[True]:
        """Always true: every reply the bot makes is AI-generated content and is labeled as such."""
        return True

    @property
    def label(self) -> str:
        return AI_LABEL[self.lang]

    @property
    def text(self) -> str:
        """What the customer sees or hears, with the explicit AI label: spoken first on a call,
        appended on its own line in chat."""
        if self.channel == "call":
            return f"{AI_SPOKEN_LABEL[self.lang]}{'' if self.lang == 'zh' else ' '}{self.body}"
        return f"{self.body}\n\n{'（' + self.label + '）' if self.lang == 'zh' else '(' + self.label + ')'}"

    def as_turn(self) -> Turn:
        return Turn("bot", self.intent, self.kind, self.order_no, self.offer_handoff)

    def to_dict(self) -> dict[str, object]:
        summary = self.handoff_summary
        return {
            "text": self.text,
            "body": self.body,
            "ai_generated": self.ai_generated,
            "label": self.label,
            "lang": self.lang,
            "intent": self.intent.value,
            "confidence": round(self.confidence, 3),
            "kind": self.kind.value,
            "handoff": self.handoff,
            "offer_handoff": self.offer_handoff,
            "handoff_summary": None
            if summary is None
            else {
                "reason": summary.reason,
                "intent": summary.intent.value,
                "lang": summary.lang,
                "channel": summary.channel,
                "customer_turns": summary.customer_turns,
                "intents": [i.value for i in summary.intents],
                "order_refs": list(summary.order_refs),
                "unanswered": summary.unanswered,
                "text": summary.text,
            },
            "tool_request": None
            if self.tool_request is None
            else {
                "name": self.tool_request.name,
                "order_no": self.tool_request.order_no,
                "address_ref": self.tool_request.address_ref,
            },
            "sources": list(self.sources),
        }


def find_order_no(text: str) -> str | None:
    m = _ORDER_NO.search(normalize(text))
    return (m.group(1) or m.group(2)).upper() if m else None


def find_address_ref(text: str) -> str | None:
    m = _ADDRESS_REF.search(text)
    return f"<ADDRESS_{int(m.group(1))}>" if m else None


@dataclass(slots=True)
class _Turn:
    """One reply in the making."""

    text: str
    norm: str
    lang: Lang
    result: IntentResult
    intent: Intent
    context: BotContext
    order_no: str | None


class Bot:
    """Stateless between calls: the caller keeps the conversation and passes it as ``context.history``."""

    def __init__(
        self,
        *,
        knowledge: KnowledgeStore,
        tools: CommerceTools | None = None,
        classifier: IntentClassifier | None = None,
        summary_lang: Lang = "zh",
    ) -> None:
        self.knowledge = knowledge
        self.tools = tools
        self.classifier = classifier or get_classifier()
        self.summary_lang: Lang = summary_lang

    # ------------------------------------------------------------------------------------ entry

    def reply(self, text: str, *, context: BotContext) -> BotReply:
        if not isinstance(text, str):
            raise BadInput(f"text must be a string, not {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise BadInput(f"text is {len(text)} characters; the bot reads at most {MAX_TEXT_CHARS}")
        result = self.classifier.classify(text)
        turn = _Turn(
            text=text,
            norm=normalize(text),
            lang=detect_lang(text, default=context.lang or "zh"),
            result=result,
            intent=result.intent,
            context=context,
            order_no=find_order_no(text),
        )
        last = _last_bot_turn(context.history)
        if last is not None and last.offered_handoff and turn.intent is not Intent.HUMAN_HANDOFF:
            if _YES.match(turn.norm):
                turn.intent = Intent.HUMAN_HANDOFF
                return self._handoff(turn, "customer_request", TEMPLATES["handoff"][turn.lang])
            if _NO.match(turn.norm):
                return self._reply(turn, TEMPLATES["declined_handoff"][turn.lang], ReplyKind.TEMPLATE)
        # "T2024061199821" right after the bot asked which order: the question continues.
        if (
            turn.intent is Intent.FAQ
            and last is not None
            and last.intent in _TOOL_INTENTS
            and (turn.order_no or find_address_ref(text))
        ):
            turn.intent = last.intent
        if (
            turn.order_no is None
            and turn.intent in _TOOL_INTENTS
            and last is not None
            and last.intent in _TOOL_INTENTS
        ):
            turn.order_no = last.order_no
        return self._dispatch(turn)

    def _dispatch(self, t: _Turn) -> BotReply:
        match t.intent:
            case Intent.HUMAN_HANDOFF:
                return self._handoff(t, "customer_request", TEMPLATES["handoff"][t.lang])
            case Intent.COMPLAINT:
                return self._handoff(t, "complaint", TEMPLATES["complaint"][t.lang])
            case Intent.ACCOUNT_SECURITY:
                return self._account_security(t)
            case Intent.SMALL_TALK:
                return self._small_talk(t)
            case Intent.ORDER_STATUS | Intent.SHIPPING | Intent.ADDRESS_CHANGE:
                return self._order_tool(t)
            case _:
                return self._from_knowledge(t)

    # ----------------------------------------------------------------------------------- pieces

    def _reply(
        self, t: _Turn, body: str, kind: ReplyKind, *, lang: Lang | None = None, **fields: object
    ) -> BotReply:
        return BotReply(
            body=body,
            lang=lang or t.lang,
            intent=t.intent,
            confidence=t.result.confidence,
            kind=kind,
            channel=t.context.channel,
            order_no=t.order_no,
            rule=t.result.rule,
            **fields,  # type: ignore[arg-type]
        )

    def _knowledge_hit(self, t: _Turn, *, strict: bool = False) -> Hit | None:
        base: KnowledgeBase | None = self.knowledge.get(t.context.shop)
        if base is None:
            return None
        hits = base.search(t.text, lang=t.lang, k=1)
        if not hits:
            return None
        hit = hits[0]
        if hit.confidence >= base.min_confidence:
            return hit
        if not strict and t.intent.value in hit.entry.tags and hit.confidence >= TAGGED_MIN_CONFIDENCE:
            return hit
        return None

    def _answer(self, t: _Turn, hit: Hit) -> BotReply:
        # A shop with an FAQ in one language answers in it; the label then matches the answer.
        return self._reply(
            t, hit.entry.answer, ReplyKind.ANSWER, lang=hit.entry.lang, sources=(hit.entry.id,)
        )

    def _from_knowledge(self, t: _Turn) -> BotReply:
        hit = self._knowledge_hit(t)
        if hit is not None:
            return self._answer(t, hit)
        return self._unknown(t)

    def _unknown(self, t: _Turn) -> BotReply:
        unanswered = _trailing_unanswered(t.context.history)
        if unanswered >= MAX_UNANSWERED:
            return self._handoff(t, "unanswered", TEMPLATES["handoff_unanswered"][t.lang])
        return self._reply(t, TEMPLATES["unknown"][t.lang], ReplyKind.UNKNOWN, offer_handoff=True)

    def _small_talk(self, t: _Turn) -> BotReply:
        for kind, pattern in _SMALL_TALK_KINDS:
            if pattern.search(t.norm):
                return self._reply(t, TEMPLATES[kind][t.lang], ReplyKind.TEMPLATE)
        return self._reply(t, TEMPLATES["small_talk"][t.lang], ReplyKind.TEMPLATE)

    def _account_security(self, t: _Turn) -> BotReply:
        if _COMPROMISE.search(t.norm):
            return self._handoff(t, "account_compromise", TEMPLATES["account_compromised"][t.lang])
        hit = self._knowledge_hit(t)
        if hit is not None:
            return self._answer(t, hit)
        return self._reply(t, TEMPLATES["account_security"][t.lang], ReplyKind.TEMPLATE, offer_handoff=True)

    def _handoff(self, t: _Turn, reason: HandoffReason, body: str) -> BotReply:
        history = t.context.history
        customer_turns = sum(1 for h in history if h.role == "customer") + 1
        intents = tuple(dict.fromkeys([*(h.intent for h in history if h.intent is not None), t.intent]))
        orders = tuple(
            dict.fromkeys(o for o in (*(h.order_no for h in history), t.order_no) if o is not None)
        )
        unanswered = sum(1 for h in history if h.role == "bot" and h.kind is ReplyKind.UNKNOWN)
        lang = self.summary_lang
        sep = "；" if lang == "zh" else "; "
        parts = [HANDOFF_REASONS[reason][lang]]
        topics = [INTENT_WORDS[i.value][lang] for i in intents if i is not Intent.HUMAN_HANDOFF]
        if topics:
            parts.append(("咨询：" if lang == "zh" else "topics: ") + "、".join(topics))
        if orders:
            parts.append(("订单：" if lang == "zh" else "orders: ") + ", ".join(orders))
        if unanswered:
            parts.append(f"机器人未能回答 {unanswered} 次" if lang == "zh" else f"unanswered {unanswered}")
        parts.append(
            f"{customer_turns} 条客户消息，{'通话' if t.context.channel == 'call' else '在线'}，"
            f"{'中文' if t.lang == 'zh' else '英文'}"
            if lang == "zh"
            else f"{customer_turns} customer messages, {t.context.channel}, {t.lang}"
        )
        summary = HandoffSummary(
            reason=reason,
            intent=t.intent,
            lang=t.lang,
            channel=t.context.channel,
            customer_turns=customer_turns,
            intents=intents,
            order_refs=orders,
            unanswered=unanswered,
            text=sep.join(parts),
        )
        return self._reply(t, body, ReplyKind.HANDOFF, handoff=True, handoff_summary=summary)

    # ------------------------------------------------------------------------------ order tools

    def _order_tool(self, t: _Turn) -> BotReply:
        address_ref = find_address_ref(t.text)
        # A policy question ("包邮吗", "下单后地址还能改吗") is answered from the FAQ; the customer's
        # own order ("我的快递到哪了", an order number, a new address) needs the shop's system.
        own = bool(_OWN.search(t.norm))
        acts = t.intent is not Intent.SHIPPING and _ACTION.search(t.norm)
        if t.order_no is None and address_ref is None and not own and not acts:
            hit = self._knowledge_hit(t, strict=t.intent is not Intent.SHIPPING)
            if hit is not None:
                return self._answer(t, hit)
        customer = t.context.customer
        if (
            (customer is None or self.tools is None)
            and not own
            and t.order_no is None
            and address_ref is None
        ):
            # No order to look at: a FAQ entry on the topic is still better than a dead end.
            hit = self._knowledge_hit(t)
            if hit is not None:
                return self._answer(t, hit)
        if customer is None:
            return self._reply(t, TEMPLATES["login_required"][t.lang], ReplyKind.TEMPLATE)
        if self.tools is None:
            name: Literal["list_orders", "get_order", "change_address"] = (
                "change_address"
                if t.intent is Intent.ADDRESS_CHANGE
                else "get_order"
                if t.order_no
                else "list_orders"
            )
            request = ToolRequest(name, t.order_no, address_ref)
            return self._reply(
                t,
                TEMPLATES["tool_missing"][t.lang],
                ReplyKind.TOOL_NEEDED,
                tool_request=request,
                offer_handoff=True,
            )
        try:
            if t.intent is Intent.ADDRESS_CHANGE:
                return self._change_address(t, self.tools, customer, address_ref)
            return self._order_status(t, self.tools, customer)
        except ToolUnavailable:
            return self._handoff(t, "tool_failure", TEMPLATES["tool_failed"][t.lang])

    def _pick_order(
        self, t: _Turn, tools: CommerceTools, customer: str, prefer: Sequence[OrderStatus]
    ) -> Order | list[Order] | None:
        """The order meant: the one named, else the only likely one, else the candidates to ask about."""
        if t.order_no is not None:
            return tools.get_order(customer=customer, order_no=t.order_no)
        orders = list(tools.list_orders(customer=customer, limit=5))
        if not orders:
            return []
        likely = [o for o in orders if o.status in prefer]
        if len(likely) == 1:
            return likely[0]
        if not likely:
            return orders[0]
        return likely[:3]

    def _order_status(self, t: _Turn, tools: CommerceTools, customer: str) -> BotReply:
        prefer = (OrderStatus.SHIPPED,) if t.intent is Intent.SHIPPING else _ACTIVE
        picked = self._pick_order(t, tools, customer, prefer)
        if picked is None:
            body = TEMPLATES["order_not_found"][t.lang].format(order_no=t.order_no)
            return self._reply(t, body, ReplyKind.TOOL)
        if isinstance(picked, list):
            if not picked:
                return self._reply(t, TEMPLATES["no_orders"][t.lang], ReplyKind.TOOL)
            return self._reply(t, self._which(t, picked, "which_order"), ReplyKind.TOOL)
        t.order_no = picked.order_no
        return self._reply(t, self._describe(t, picked), ReplyKind.TOOL)

    def _change_address(
        self, t: _Turn, tools: CommerceTools, customer: str, address_ref: str | None
    ) -> BotReply:
        picked = self._pick_order(t, tools, customer, (OrderStatus.PAID, OrderStatus.PENDING_PAYMENT))
        if picked is None:
            body = TEMPLATES["order_not_found"][t.lang].format(order_no=t.order_no)
            return self._reply(t, body, ReplyKind.TOOL)
        if isinstance(picked, list):
            if not picked:
                return self._reply(t, TEMPLATES["no_orders"][t.lang], ReplyKind.TOOL)
            return self._reply(t, TEMPLATES["address_which_order"][t.lang], ReplyKind.TOOL)
        t.order_no = picked.order_no
        if address_ref is None:
            body = TEMPLATES["address_need_new"][t.lang].format(order_no=picked.order_no)
            return self._reply(t, body, ReplyKind.TOOL)
        outcome = tools.change_address(
            customer=customer, order_no=picked.order_no, address_ref=address_ref
        ).outcome
        if outcome is AddressChangeOutcome.ALREADY_SHIPPED:
            body = TEMPLATES["address_already_shipped"][t.lang].format(order_no=picked.order_no)
            return self._handoff(t, "needs_agent", body)
        key = {
            AddressChangeOutcome.CHANGED: "address_changed",
            AddressChangeOutcome.NOT_ALLOWED: "address_not_allowed",
            AddressChangeOutcome.UNKNOWN_ADDRESS: "address_unknown",
        }[outcome]
        body = TEMPLATES[key][t.lang].format(order_no=picked.order_no)
        return self._reply(t, body, ReplyKind.TOOL, offer_handoff=outcome is AddressChangeOutcome.NOT_ALLOWED)

    def _which(self, t: _Turn, orders: Sequence[Order], key: str) -> str:
        sep = "；" if t.lang == "zh" else "; "
        listed = sep.join(
            f"{o.order_no}（{_items(o, t.lang)}）"
            if t.lang == "zh"
            else f"{o.order_no} ({_items(o, t.lang)})"
            for o in orders
        )
        return TEMPLATES[key][t.lang].format(orders=listed)

    def _describe(self, t: _Turn, order: Order) -> str:
        status = STATUS_WORDS[order.status.value][t.lang]
        if t.intent is Intent.SHIPPING:
            if order.shipment is None:
                return TEMPLATES["shipment_none"][t.lang].format(order_no=order.order_no, status=status)
            head = ""
        else:
            head = TEMPLATES["order_status"][t.lang].format(
                order_no=order.order_no, items=_items(order, t.lang), status=status
            )
            if order.shipment is None:
                return head
        s = order.shipment
        assert s is not None
        if t.lang == "zh":
            event = f"，最新物流：{s.latest_event}" if s.latest_event else ""
            eta = f"，预计 {s.eta.isoformat()} 送达" if s.eta else ""
            lead = "" if head else f"您的订单 {order.order_no}"
        else:
            event = f", latest update: {s.latest_event}" if s.latest_event else ""
            eta = f", expected on {s.eta.isoformat()}" if s.eta else ""
            lead = "" if head else f"Order {order.order_no}: "
        line = TEMPLATES["order_shipment"][t.lang].format(
            carrier=s.carrier, tracking_no=s.tracking_no, event=event, eta=eta
        )
        return f"{head}{lead}{line}" if t.lang == "zh" else f"{head} {lead}{line}".strip()


def _items(order: Order, lang: Lang) -> str:
    if not order.items:
        return "商品" if lang == "zh" else "items"
    first = order.items[0][:30]
    more = len(order.items) - 1
    if not more:
        return first
    return f"{first} 等 {len(order.items)} 件" if lang == "zh" else f"{first} and {more} more"


def _last_bot_turn(history: Sequence[Turn]) -> Turn | None:
    return next((h for h in reversed(history) if h.role == "bot"), None)


def _trailing_unanswered(history: Sequence[Turn]) -> int:
    count = 0
    for h in reversed(history):
        if h.role != "bot":
            continue
        if h.kind is not ReplyKind.UNKNOWN:
            break
        count += 1
    return count


def demo_bot(*, tools: CommerceTools | None = None) -> Bot:
    """A bot answering for the demo shop from the shipped demo FAQ."""
    store = KnowledgeStore()
    store.put(demo_knowledge_base())
    return Bot(knowledge=store, tools=tools)
