from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from guardline.bot.intents import Intent
from guardline.bot.knowledge import KnowledgeStore
from guardline.bot.service import Bot, BotContext, BotReply, ReplyKind, Turn, demo_bot, find_order_no
from guardline.bot.tools import (
    AddressChangeOutcome,
    AddressChangeResult,
    CommerceTools,
    Order,
    OrderStatus,
    Shipment,
    ToolUnavailable,
)
from guardline.errors import BadInput

ALICE = "cust-alice"
BOB = "cust-bob"


@dataclass
class FakeTools:
    """Implements CommerceTools over a dict; each customer sees only their own orders."""

    orders: dict[str, list[Order]] = field(default_factory=dict)
    down: bool = False
    address_outcome: AddressChangeOutcome = AddressChangeOutcome.CHANGED
    calls: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)

    def list_orders(self, *, customer: str, limit: int = 5) -> Sequence[Order]:
        self._check("list_orders", customer)
        return self.orders.get(customer, [])[:limit]

    def get_order(self, *, customer: str, order_no: str) -> Order | None:
        self._check("get_order", customer, order_no)
        return next((o for o in self.orders.get(customer, []) if o.order_no == order_no), None)

    def change_address(self, *, customer: str, order_no: str, address_ref: str) -> AddressChangeResult:
        self._check("change_address", customer, order_no, address_ref)
        return AddressChangeResult(self.address_outcome)

    def _check(self, name: str, customer: str, order_no: str | None = None, ref: str | None = None) -> None:
        self.calls.append((name, customer, order_no, ref))
        if self.down:
            raise ToolUnavailable("order system timed out")


SHIPPED = Order(
    "T2024061199821",
    OrderStatus.SHIPPED,
    datetime(2026, 11, 28, 10, 0),
    ("空气炸锅",),
    Shipment("顺丰速运", "SF1234567890", "已到达【杭州转运中心】", eta=date(2026, 12, 2)),
)
PAID = Order("T2024061200001", OrderStatus.PAID, datetime(2026, 11, 30, 9, 0), ("保温杯", "杯刷"), None, True)
BOBS = Order("T2024061299999", OrderStatus.PAID, datetime(2026, 11, 30, 9, 0), ("耳机",), None, True)


def tools(**kwargs: object) -> FakeTools:
    return FakeTools(orders={ALICE: [PAID, SHIPPED], BOB: [BOBS]}, **kwargs)  # type: ignore[arg-type]


def signed_in(customer: str = ALICE, **kwargs: object) -> BotContext:
    return BotContext(customer=customer, **kwargs)  # type: ignore[arg-type]


def test_fake_implements_the_protocol() -> None:
    _: CommerceTools = tools()


# ------------------------------------------------------------------------------------------ label

MESSAGES = [
    "转人工",
    "你好",
    "包邮吗",
    "我的快递到哪了",
    "我要投诉",
    "我的账号被盗了",
    "退货运费谁出",
    "今天天气怎么样",
    "where is my package",
    "talk to a human",
    "tell me a joke",
    "???",
    "",
]


@pytest.mark.parametrize("channel", ["chat", "call"])
@pytest.mark.parametrize("text", MESSAGES)
def test_every_reply_is_labeled_as_ai_generated(text: str, channel: str) -> None:
    for bot, context in (
        (demo_bot(), BotContext(channel=channel)),
        (demo_bot(tools=tools()), signed_in(channel=channel)),
    ):  # type: ignore[arg-type]
        reply = bot.reply(text, context=context)
        assert reply.ai_generated is True
        assert reply.label in reply.text
        assert reply.label == ("本回复由AI生成" if reply.lang == "zh" else "AI-generated")
        assert reply.to_dict()["ai_generated"] is True
        assert reply.body in reply.text


def test_label_is_spoken_first_on_a_call() -> None:
    reply = demo_bot().reply("你好", context=BotContext(channel="call"))
    assert reply.text.startswith("本回复由AI生成。")
    assert demo_bot().reply("你好", context=BotContext()).text.endswith("（本回复由AI生成）")


# ---------------------------------------------------------------------------------------- handoff


@pytest.mark.parametrize(
    "text", ["转人工", "人工客服", "我要退货 转人工", "talk to a human", "agent", "我的订单到哪了 人工"]
)
def test_asking_for_a_human_always_hands_off(text: str) -> None:
    for bot in (demo_bot(), demo_bot(tools=tools())):
        reply = bot.reply(text, context=signed_in())
        assert reply.handoff
        assert reply.kind is ReplyKind.HANDOFF
        assert reply.handoff_summary is not None
        assert reply.handoff_summary.reason == "customer_request"


def test_handoff_summary_carries_context_but_no_message_text() -> None:
    history = [
        Turn("customer", Intent.RETURN_REFUND),
        Turn("bot", Intent.RETURN_REFUND, ReplyKind.ANSWER),
        Turn("customer", Intent.ORDER_STATUS, order_no="T2024061199821"),
        Turn("bot", Intent.ORDER_STATUS, ReplyKind.TOOL, "T2024061199821"),
        Turn("customer", Intent.FAQ),
        Turn("bot", Intent.FAQ, ReplyKind.UNKNOWN),
    ]
    text = "我叫王**，手机138****5678，地址<ADDRESS_1>，快给我转人工"
    reply = demo_bot().reply(text, context=BotContext(history=history))
    summary = reply.handoff_summary
    assert summary is not None
    assert summary.customer_turns == 4
    assert summary.intents == (Intent.RETURN_REFUND, Intent.ORDER_STATUS, Intent.FAQ, Intent.HUMAN_HANDOFF)
    assert summary.order_refs == ("T2024061199821",)
    assert summary.unanswered == 1
    assert "退货退款" in summary.text
    assert "T2024061199821" in summary.text
    for fragment in ("王", "138", "5678", "ADDRESS", "快给我"):
        assert fragment not in summary.text
    assert fragment not in str(reply.to_dict()["handoff_summary"])


def test_complaint_hands_off_with_an_apology() -> None:
    reply = demo_bot().reply("你们服务太差了，我要投诉", context=BotContext())
    assert reply.handoff
    assert reply.handoff_summary is not None
    assert reply.handoff_summary.reason == "complaint"
    assert "抱歉" in reply.body


def test_account_takeover_hands_off_and_advice_otherwise() -> None:
    takeover = demo_bot().reply("我的账号被盗了，有人用我的账号下单", context=BotContext())
    assert takeover.handoff
    assert takeover.handoff_summary is not None
    assert takeover.handoff_summary.reason == "account_compromise"
    advice = demo_bot().reply("忘记密码了怎么办", context=BotContext())
    assert not advice.handoff
    assert advice.sources == ("account-password",)


def test_two_unanswered_in_a_row_hand_off() -> None:
    bot = demo_bot()
    first = bot.reply("你们支持以旧换新吗", context=BotContext())
    assert first.kind is ReplyKind.UNKNOWN
    assert first.offer_handoff
    assert not first.handoff
    history = [Turn("customer", first.intent), first.as_turn()]
    second = bot.reply("帮我订一张机票", context=BotContext(history=history))
    assert second.handoff
    assert second.handoff_summary is not None
    assert second.handoff_summary.reason == "unanswered"


# ------------------------------------------------------------------------------------- knowledge


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("包邮吗", "shipping-fee"),
        ("七天无理由退货怎么弄", "return-7day"),
        ("能开增值税专用发票吗", "invoice-vat"),
        ("你们是正品吗", "authentic"),
        ("do you ship to hong kong", "delivery-area-en"),
        ("how long does a refund take", "refund-time-en"),
    ],
)
def test_answers_from_the_knowledge_base(text: str, source: str) -> None:
    reply = demo_bot().reply(text, context=BotContext())
    assert reply.kind is ReplyKind.ANSWER
    assert reply.sources == (source,)
    assert reply.lang == ("en" if text.isascii() else "zh")


def test_a_shop_without_a_knowledge_base_does_not_guess() -> None:
    bot = Bot(knowledge=KnowledgeStore())
    reply = bot.reply("退货运费谁出", context=BotContext(shop="no-faq-yet"))
    assert reply.kind is ReplyKind.UNKNOWN


def test_small_talk() -> None:
    bot = demo_bot()
    assert "AI" in bot.reply("你是机器人吗", context=BotContext()).body
    assert "再见" in bot.reply("好的 谢谢 再见", context=BotContext()).body
    assert bot.reply("hello", context=BotContext()).lang == "en"


# ---------------------------------------------------------------------------------------- tools


def test_order_status_needs_a_signed_in_customer() -> None:
    fake = tools()
    reply = demo_bot(tools=fake).reply("我的订单到哪一步了", context=BotContext())
    assert "登录" in reply.body
    assert fake.calls == []


def test_without_tools_the_reply_marks_the_tool_needed() -> None:
    reply = demo_bot().reply("帮我查下订单 T2024061199821", context=signed_in())
    assert reply.kind is ReplyKind.TOOL_NEEDED
    assert reply.tool_request is not None
    assert reply.tool_request.name == "get_order"
    assert reply.tool_request.order_no == "T2024061199821"
    assert reply.offer_handoff


def test_order_status_by_number() -> None:
    fake = tools()
    reply = demo_bot(tools=fake).reply("帮我查下订单 T2024061199821", context=signed_in())
    assert reply.kind is ReplyKind.TOOL
    assert fake.calls == [("get_order", ALICE, "T2024061199821", None)]
    assert "已发货" in reply.body
    assert "SF1234567890" in reply.body
    assert reply.order_no == "T2024061199821"


def test_another_customers_order_is_not_found() -> None:
    reply = demo_bot(tools=tools()).reply("查一下订单号 T2024061299999", context=signed_in(ALICE))
    assert "没有在您的账号下查到订单" in reply.body
    assert "耳机" not in reply.body


def test_several_active_orders_ask_which_one() -> None:
    reply = demo_bot(tools=tools()).reply("我的订单怎么样了", context=signed_in())
    assert "哪一笔" in reply.body
    assert PAID.order_no in reply.body
    assert SHIPPED.order_no in reply.body


def test_shipping_reports_the_order_in_transit() -> None:
    reply = demo_bot(tools=tools()).reply("我的快递到哪了", context=signed_in())
    assert reply.intent is Intent.SHIPPING
    assert "顺丰速运" in reply.body
    assert "杭州转运中心" in reply.body
    assert "2026-12-02" in reply.body


def test_english_order_status() -> None:
    reply = demo_bot(tools=tools()).reply("where is my package", context=signed_in())
    assert reply.lang == "en"
    assert "SF1234567890" in reply.body


def test_order_number_after_the_bot_asked_continues_the_question() -> None:
    bot = demo_bot(tools=tools())
    first = bot.reply("我的订单怎么样了", context=signed_in())
    history = [Turn("customer", first.intent), first.as_turn()]
    second = bot.reply("T2024061200001", context=signed_in(history=history))
    assert second.intent is Intent.ORDER_STATUS
    assert "已付款" in second.body


def test_address_change_with_a_placeholder() -> None:
    fake = tools()
    reply = demo_bot(tools=fake).reply("订单 T2024061200001 的地址改成 <ADDRESS_1>", context=signed_in())
    assert ("change_address", ALICE, "T2024061200001", "<ADDRESS_1>") in fake.calls
    assert "已为订单 T2024061200001 修改收货地址" in reply.body


def test_address_change_asks_for_the_new_address_then_uses_it() -> None:
    fake = tools()
    bot = demo_bot(tools=fake)
    first = bot.reply("我要改收货地址", context=signed_in())
    assert "新收货地址" in first.body
    assert first.order_no == PAID.order_no  # the only order that can still change
    history = [Turn("customer", first.intent), first.as_turn()]
    second = bot.reply("<ADDRESS_2>", context=signed_in(history=history))
    assert ("change_address", ALICE, PAID.order_no, "<ADDRESS_2>") in fake.calls
    assert second.kind is ReplyKind.TOOL


def test_address_change_after_shipping_hands_off() -> None:
    fake = tools(address_outcome=AddressChangeOutcome.ALREADY_SHIPPED)
    reply = demo_bot(tools=fake).reply("订单 T2024061200001 地址改成 <ADDRESS_1>", context=signed_in())
    assert reply.handoff
    assert reply.handoff_summary is not None
    assert reply.handoff_summary.reason == "needs_agent"


def test_tool_outage_hands_off() -> None:
    reply = demo_bot(tools=tools(down=True)).reply("我的快递到哪了", context=signed_in())
    assert reply.handoff
    assert reply.handoff_summary is not None
    assert reply.handoff_summary.reason == "tool_failure"


def test_policy_questions_do_not_need_tools() -> None:
    fake = tools()
    reply = demo_bot(tools=fake).reply("包邮吗", context=signed_in())
    assert reply.kind is ReplyKind.ANSWER
    assert fake.calls == []


@pytest.mark.parametrize(
    ("text", "order_no"),
    [
        ("订单号：T2024061199821", "T2024061199821"),
        ("order #100234567", "100234567"),
        ("单号是 202405180032 麻烦看下", "202405180032"),
        ("手机138****5678", None),
        ("买了3件", None),
    ],
)
def test_find_order_no(text: str, order_no: str | None) -> None:
    assert find_order_no(text) == order_no


# ----------------------------------------------------------------------------------- contract


def test_replies_are_deterministic() -> None:
    def run() -> list[BotReply]:
        bot = demo_bot(tools=tools())
        return [bot.reply(t, context=signed_in()) for t in MESSAGES]

    assert run() == run()


def test_reply_refuses_bad_input() -> None:
    with pytest.raises(BadInput, match="at most"):
        demo_bot().reply("退" * 5000, context=BotContext())
    with pytest.raises(BadInput, match="string"):
        demo_bot().reply(None, context=BotContext())  # type: ignore[arg-type]


def test_own_order_questions_never_get_a_policy_answer_instead() -> None:
    reply = demo_bot().reply("我的快递到哪了", context=BotContext())
    assert reply.kind is ReplyKind.TEMPLATE
    assert "登录" in reply.body
    assert reply.sources == ()


def test_without_an_order_to_look_at_a_policy_answer_still_helps() -> None:
    for context in (BotContext(), signed_in()):
        reply = demo_bot().reply("订单还没发货能取消吗", context=context)
        assert reply.kind is ReplyKind.ANSWER
        assert reply.sources == ("cancel-order",)


def test_concurrent_replies_match_sequential_ones() -> None:
    from concurrent.futures import ThreadPoolExecutor

    bot = demo_bot(tools=tools())
    texts = [m for m in MESSAGES if m] * 4
    expected = [bot.reply(t, context=signed_in()) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda t: bot.reply(t, context=signed_in()), texts))
    assert got == expected


@pytest.mark.parametrize(
    ("answer", "handoff"),
    [("好的", True), ("需要", True), ("yes please", True), ("不用了", False), ("no thanks", False)],
)
def test_a_yes_to_the_offer_of_a_person_hands_off(answer: str, handoff: bool) -> None:
    bot = demo_bot()
    offer = bot.reply("你们支持以旧换新吗", context=BotContext())
    assert offer.offer_handoff
    history = [Turn("customer", offer.intent), offer.as_turn()]
    reply = bot.reply(answer, context=BotContext(history=history))
    assert reply.handoff is handoff
    assert reply.kind is (ReplyKind.HANDOFF if handoff else ReplyKind.TEMPLATE)


def test_a_plain_yes_without_an_offer_is_small_talk() -> None:
    assert not demo_bot().reply("好的", context=BotContext()).handoff


def test_an_answer_from_the_other_language_is_labeled_in_its_language() -> None:
    store = KnowledgeStore()
    store.import_faq(
        "question,answer\nAirPods 多久发货,AirPods 付款后48小时内发货。\n", shop="zh-only", format="csv"
    )
    reply = Bot(knowledge=store).reply("airpods", context=BotContext(shop="zh-only"))
    assert reply.kind is ReplyKind.ANSWER
    assert reply.lang == "zh"
    assert reply.label == "本回复由AI生成"
