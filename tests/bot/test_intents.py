from __future__ import annotations

import pytest

from guardline.bot.intents import (
    HELDOUT_FILES,
    TRAINING_FILES,
    Intent,
    IntentClassifier,
    Utterance,
    get_classifier,
    load_utterances,
    parse_utterances,
    wants_human,
)
from guardline.bot.text import normalize
from guardline.errors import BadInput

ROUTING = [
    # chat, Chinese
    ("我的订单怎么还没发货", Intent.ORDER_STATUS),
    ("帮我看看订单 T2024061199821 的状态", Intent.ORDER_STATUS),
    ("快递到哪了 三天没动", Intent.SHIPPING),
    ("满多少包邮", Intent.SHIPPING),
    ("衣服小了 想退货", Intent.RETURN_REFUND),
    ("退款怎么还没到账", Intent.RETURN_REFUND),
    ("麻烦开一张公司抬头的发票", Intent.INVOICE),
    ("收货地址写错了 能改吗", Intent.ADDRESS_CHANGE),
    ("改成 <ADDRESS_1>", Intent.ADDRESS_CHANGE),
    ("你们服务太差了 我要投诉", Intent.COMPLAINT),
    ("我的账号好像被盗了", Intent.ACCOUNT_SECURITY),
    ("收不到验证码", Intent.ACCOUNT_SECURITY),
    ("你好", Intent.SMALL_TALK),
    ("谢谢 拜拜", Intent.SMALL_TALK),
    ("这件衣服是纯棉的吗", Intent.FAQ),
    # call transcripts
    ("喂 你好 嗯 我那个快递啊 到现在还没收到", Intent.SHIPPING),
    ("呃 就是 我想退个货 那个鞋子不合适", Intent.RETURN_REFUND),
    ("嗯 那个 发票 我要开个发票", Intent.INVOICE),
    # English
    ("where's my package", Intent.SHIPPING),
    ("has my order shipped", Intent.ORDER_STATUS),
    ("i'd like a refund, it arrived broken", Intent.RETURN_REFUND),
    ("i need an invoice for my company", Intent.INVOICE),
    ("i typed the wrong address", Intent.ADDRESS_CHANGE),
    ("this is a scam, i want to complain", Intent.COMPLAINT),
    ("someone hacked my account", Intent.ACCOUNT_SECURITY),
    ("thanks, bye", Intent.SMALL_TALK),
    ("uh yeah hi um my tracking hasn't moved", Intent.SHIPPING),
]


@pytest.mark.parametrize(("text", "intent"), ROUTING)
def test_routing(text: str, intent: Intent) -> None:
    assert get_classifier().classify(text).intent is intent


HUMAN = [
    "转人工",
    "人工客服",
    "人工",
    "人工 人工 人工",
    "帮我转人工",
    "我不要机器人",
    "找个真人",
    "人工客服在吗？",
    "转 人 工",
    "喂 转人公 转人公",  # ASR
    "ＲＥＡＬ ＰＥＲＳＯＮ please",
    "talk to a human",
    "I want to speak to a real person",
    "agent",
    "live agent please",
    "can I talk to customer service",
    "representative",
]


@pytest.mark.parametrize("text", HUMAN)
def test_asking_for_a_human_always_hands_off(text: str) -> None:
    result = get_classifier().classify(text)
    assert result.intent is Intent.HUMAN_HANDOFF
    assert result.rule == "handoff_request"


@pytest.mark.parametrize(
    "text",
    [
        "我要退货，快点转人工",
        "发票开错了 人工客服呢",
        "你们服务太差了 我要投诉 转人工",
        "where is my package? get me a human",
        "我的订单 T2024061199821 到哪了" * 20 + "转人工",
    ],
)
def test_handoff_wins_over_any_other_intent(text: str) -> None:
    assert get_classifier().classify(text).intent is Intent.HUMAN_HANDOFF


@pytest.mark.parametrize(
    "text",
    [
        "你们是人工智能吗",  # asks about AI, not for a person
        "人工智能客服挺好用的",
        "不用转人工了 问题解决了",
        "不需要人工，谢谢",
        "no need for a human, thanks",
        "the package was delivered to the agent at the front desk",
    ],
)
def test_not_a_request_for_a_human(text: str) -> None:
    assert not wants_human(text)
    assert get_classifier().classify(text).intent is not Intent.HUMAN_HANDOFF


def test_held_out_accuracy_and_macro_f1() -> None:
    test = load_utterances(*HELDOUT_FILES)
    predicted = [get_classifier().classify(u.text).intent for u in test]
    accuracy = sum(p is u.intent for p, u in zip(predicted, test, strict=True)) / len(test)
    f1s = []
    for intent in Intent:
        tp = sum(p is intent and u.intent is intent for p, u in zip(predicted, test, strict=True))
        fp = sum(p is intent and u.intent is not intent for p, u in zip(predicted, test, strict=True))
        fn = sum(p is not intent and u.intent is intent for p, u in zip(predicted, test, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    # Measured 0.90 on 230 held-out messages; the floor catches a real regression, not noise.
    assert accuracy >= 0.85
    assert sum(f1s) / len(f1s) >= 0.85


def test_held_out_never_overlaps_training() -> None:
    train = {normalize(u.text) for u in load_utterances(*TRAINING_FILES)}
    test = [normalize(u.text) for u in load_utterances(*HELDOUT_FILES)]
    assert not [t for t in test if t in train]


def test_training_data_covers_every_intent_in_both_languages() -> None:
    train = load_utterances(*TRAINING_FILES)
    assert sum(u.lang == "zh" for u in train) >= 400
    assert sum(u.lang == "en" for u in train) >= 200
    for intent in Intent:
        for lang in ("zh", "en"):
            assert sum(u.intent is intent and u.lang == lang for u in train) >= 15, (intent, lang)


def test_low_confidence_falls_back_to_faq() -> None:
    result = get_classifier().classify("请问这个能不能和那个一起")
    if result.confidence < get_classifier().threshold:
        assert result.intent is Intent.FAQ
    strict = IntentClassifier(load_utterances(*TRAINING_FILES), threshold=0.99)
    assert strict.classify("嗯").intent in (Intent.FAQ, Intent.SMALL_TALK)
    assert strict.classify("我的快递到哪了").intent is Intent.FAQ


def test_fitting_is_deterministic() -> None:
    texts = ["我的快递到哪了", "能开发票吗", "i want a refund", "嗯 那个 我想问一下"]
    again = IntentClassifier(load_utterances(*TRAINING_FILES))
    assert again.probabilities(texts) == get_classifier().probabilities(texts)


def test_classifier_refuses_bad_input() -> None:
    with pytest.raises(BadInput, match="at most"):
        get_classifier().classify("退" * 5000)
    with pytest.raises(BadInput, match="string"):
        get_classifier().classify(42)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="two intents"):
        IntentClassifier([Utterance("你好", Intent.SMALL_TALK, "zh")])


def test_utterance_file_errors_name_the_line() -> None:
    with pytest.raises(BadInput, match=r"x.txt:2: unknown intent"):
        parse_utterances("# c\n[refunds]\n退货\n", source="x.txt")
    with pytest.raises(BadInput, match=r"x.txt:1: an utterance before"):
        parse_utterances("退货\n", source="x.txt")
