"""The model-egress pass: what the PII engine misses still does not reach a model, ordinary shop talk does."""

from __future__ import annotations

import csv
import re
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardline.bot import egress
from guardline.bot.llm import build_prompt, mask_for_model, restore_answer
from guardline.pii import EntityType, PlaceholderVault

# (message, the personal value in it). The PII engine leaves each of these values in clear (checked
# when they were written); the egress pass is what keeps them from the model.
ENGINE_MISSES = [
    ("my name is uh kenneth okay, how do returns work", "kenneth"),
    ("hi i'm chidi, where is my parcel", "chidi"),
    (
        "my passport number is e one two three four five six seven eight",
        "one two three four five six seven eight",
    ),
    ("通行证号码 C 一二三四 五六七八，能寄到香港吗", "一二三四 五六七八"),
    ("支付密码是zhangsan，被盗了怎么办", "zhangsan"),
    ("密码是 qwerty 怎么改", "qwerty"),
    ("the password i set was sunshine and it stopped working", "sunshine"),
    ("收礼人周国华，联系方式见备注", "周国华"),
    ("api_key=sk-AbCdEf123456GhIj is what the app shows", "sk-AbCdEf123456GhIj"),
    ("my wechat id is zhang_san88 if that helps", "zhang_san88"),
    ("call me at five five five twenty one thirty four", "twenty one thirty four"),
    ("Zhang Wei 收，谢谢", "Zhang Wei"),
    ("the surname, spell it s m i t h", "s m i t h"),
]

_PLACEHOLDER = re.compile(r"[<＜][A-Z_]+_[0-9]+[>＞]")

# Shop talk a model needs to answer: left exactly as it is.
ORDINARY = [
    "我的订单怎么还没发货",
    "iPhone 15 Pro Max 256GB 多少钱",
    "满199元包邮吗？运费8元",
    "12月1日下的单什么时候到",
    "2024-12-01 10:30 下的单，今天能发吗",
    "退货运费谁出？",
    "¥1,299.00 的那款还有货吗",
    "5000mAh 的充电宝可以带上飞机吗",
    "支持七天无理由退货吗",
    "how long does delivery take to Hong Kong?",
    "Can I return an item within 7 days for any reason?",
    "i'm looking for the refund policy",
    "this is ridiculous, i want a refund",
    "the code didn't arrive",
    "my account is locked",
    "it's broken, thank you so much",
    "I ordered 3 pairs of Nike shoes in size 42",
    "我是想问一下退货",
    "收件人写错了，怎么改",
]


@pytest.mark.parametrize(("text", "value"), ENGINE_MISSES)
def test_what_the_engine_misses_does_not_reach_the_prompt(text: str, value: str) -> None:
    vault = PlaceholderVault()
    prompt = build_prompt(
        shop="演示店铺", lang="en", masked_message=mask_for_model(text, vault), draft="好的。", vault=vault
    )
    sent = "\n".join(m["content"] for m in prompt.messages)
    assert value not in sent
    assert value.replace(" ", "") not in sent.replace(" ", "")
    entries = vault.to_dict()["entries"]
    assert isinstance(entries, list)
    assert any(value in entry["value"] for entry in entries)  # restorable by this vault alone


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_shop_talk_is_left_alone(text: str) -> None:
    assert egress.find(text) == []


def test_intent_utterances_and_faq_answers_are_nearly_untouched() -> None:
    data = resources.files("guardline.bot").joinpath("data")
    utterances = [
        line
        for name in ("intents_zh.txt", "intents_en.txt")
        for line in data.joinpath(name).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "["))
    ]
    touched = [u for u in utterances if egress.find(u)]
    # Only order numbers (and a 12315 hotline) are masked: tools handle orders, not the model.
    assert len(touched) / len(utterances) < 0.02
    with data.joinpath("demo_faq_en.csv").open(encoding="utf-8") as fh:
        answers = [row["answer"] for row in csv.DictReader(fh)]
    answers += [
        line
        for line in data.joinpath("demo_faq_zh.md").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert [a for a in answers if egress.find(a)] == []


@pytest.mark.parametrize(
    "text",
    [
        "我叫<PERSON_1>，电话<PHONE_1>，订单<CREDENTIAL_2>",
        "my name is <PERSON_2> and my code is <CREDENTIAL_1>",
        "收件人：＜ADDRESS_1＞ 密码是 < PHONE_3 >",
    ],
)
def test_placeholders_are_never_masked_again(text: str) -> None:
    assert egress.mask(text, PlaceholderVault()).text == text


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        ("单号 13812345678 查一下", "13812345678", EntityType.PHONE),
        ("number 110105194912310021 ok", "110105194912310021", EntityType.ID_CARD),
        ("卡 6222 0212 3456 7890 可以吗", "6222 0212 3456 7890", EntityType.BANK_CARD),
        ("my ssn is 123-45-6789", "123-45-6789", EntityType.US_SSN),
        ("证件 E12345678", "E12345678", EntityType.PASSPORT),
        ("订单 202405180032 到哪了", "202405180032", EntityType.CREDENTIAL),
        ("验证码 幺二三四", "幺二三四", EntityType.CREDENTIAL),
        ("my pin is one two three four", "one two three four", EntityType.CREDENTIAL),
        ("write to jane dot doe at gmail dot com", "jane dot doe at gmail dot com", EntityType.EMAIL),
        ("this is Sarah calling", "Sarah", EntityType.PERSON),
        ("请问王先生在吗", "王", EntityType.PERSON),
    ],
)
def test_what_is_masked_is_typed_by_its_shape(text: str, value: str, entity_type: EntityType) -> None:
    found = [(text[f.start : f.end], f.type) for f in egress.find(text)]
    assert (value, entity_type) in found


def test_restore_puts_back_egress_values_only_from_the_same_vault_and_only_showable_types() -> None:
    vault = PlaceholderVault()
    masked = egress.mask("my name is uh kenneth, the password i set was sunshine", vault).text
    assert masked == "my name is uh <PERSON_1>, the password i set was <CREDENTIAL_1>"
    answer = "Thanks <PERSON_1>, never share <CREDENTIAL_1>."
    # The customer's own name comes back; a secret never does, even to its owner.
    assert restore_answer(answer, vault, "en") == "Thanks kenneth, never share [withheld]."
    # Another conversation's vault (or an empty one) restores nothing.
    other = PlaceholderVault()
    egress.mask("hi i'm chidi", other)
    assert restore_answer(answer, other, "en") == "Thanks chidi, never share [withheld]."
    assert restore_answer(answer, PlaceholderVault(), "en") == "Thanks [withheld], never share [withheld]."
    # Whatever is not restored reads as withheld, never as a raw placeholder.
    assert restore_answer("已核对证件＜ID_CARD_1＞", vault) == "已核对证件（已隐去）"


def test_the_same_value_keeps_its_placeholder_across_the_engine_and_the_egress_pass() -> None:
    vault = PlaceholderVault()
    first = egress.mask("name's okafor", vault).text
    again = egress.mask("spell it o k a f o r", vault).text
    assert first == "name's <PERSON_1>"
    assert again == "spell it <PERSON_1>"


def test_the_system_prompt_and_its_canary_are_sent_as_they_are() -> None:
    vault = PlaceholderVault()
    prompt = build_prompt(
        shop="Shop 12345",
        lang="zh",
        masked_message="订单 202405180032 什么时候到",
        draft="订单 202405180032 已发货，预计 12月3日 送达。",
        vault=vault,
    )
    system, user = prompt.messages[0]["content"], prompt.messages[1]["content"]
    assert prompt.canary in system
    assert system == prompt.system
    assert "202405180032" not in user
    assert user.count("<CREDENTIAL_1>") == 2  # message and draft agree on one placeholder
    assert "12月3日" in user


_FRAGMENTS = st.sampled_from(
    [
        "<PHONE_1>", "<PERSON_2>", "＜EMAIL_1＞", "我叫", "my name is ", "i'm ", "密码是", "password is ",
        "收件人", "王", "欧阳", "建国", "john", "Smith", "幺三八", "一二三四", "five five ", "twenty ",
        "12345", "E1234567", "abc123", "-", " ", "，", "、", "@", "gmail.com", "元", "GB", "2024-12-01",
        "订单", "order ", "x", "先生", "s m i t h",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=12).map("".join))
def test_masking_keeps_every_placeholder_and_a_second_pass_unmasks_nothing(text: str) -> None:
    vault = PlaceholderVault()
    once = egress.mask(text, vault).text
    for placeholder in ("<PHONE_1>", "<PERSON_2>", "＜EMAIL_1＞"):
        assert once.count(placeholder) >= text.count(placeholder)
    # Not idempotent: a placeholder is a boundary, so a second pass may mask a little more around it
    # ("王王" before one reads as a name); it never gives anything back.
    twice = egress.mask(once, vault).text
    for placeholder in set(_PLACEHOLDER.findall(once)):
        assert twice.count(placeholder) >= once.count(placeholder)
    assert restore_answer(once, vault).count("<") <= once.count("<")
