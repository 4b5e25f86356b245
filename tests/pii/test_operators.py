"""Tests for the masking operators: per-type masks, placeholders and the vault, pseudonyms, redaction."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardline.errors import BadInput, InvalidOperatorConfig
from guardline.pii.entities import EntityType as T
from guardline.pii.operators import OPERATORS, OperatorState, PlaceholderVault, get_operator

KEY = b"k" * 16
OTHER_KEY = b"o" * 32
STATE = OperatorState()


def mask(value: str, entity_type: T, **params: object) -> str:
    return OPERATORS["mask"].operate(value, entity_type=entity_type, params=params, state=STATE)


def pseudonym(value: str, entity_type: T, **params: object) -> str:
    params.setdefault("key", KEY)
    operator = OPERATORS["pseudonym"]
    operator.validate(params)
    return operator.operate(value, entity_type=entity_type, params=params, state=STATE)


def placeholder(vault: PlaceholderVault, value: str, entity_type: T) -> str:
    state = OperatorState(vault=vault)
    return OPERATORS["placeholder"].operate(value, entity_type=entity_type, params={}, state=state)


# --- mask -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_type", "value", "expected"),
    [
        (T.PHONE, "13812345678", "138****5678"),
        (T.PHONE, "138 1234 5678", "138 **** 5678"),
        (T.PHONE, "138-1234-5678", "138-****-5678"),
        (T.PHONE, "幺三八 幺二三四 五六七八", "幺三八 **** 五六七八"),
        (T.PHONE, "幺三八幺二三四五六七八", "幺三八****五六七八"),
        (T.PHONE, "１３８１２３４５６７８", "１３８****５６７８"),
        (T.PHONE, "１３８ 1234 五六七八", "１３８ **** 五六七八"),
        (T.PHONE, "+86 138 1234 5678", "+86 138 **** 5678"),
        (T.PHONE, "0086-13812345678", "0086-138****5678"),
        (T.PHONE, "400-123-4567", "400-***-*567"),
        (T.ID_CARD, "110101199003071234", "110***********1234"),
        (T.ID_CARD, "11010119900307123X", "110***********123X"),
        (T.BANK_CARD, "6222021234567890", "************7890"),
        (T.BANK_CARD, "6222 0212 3456 7890", "**** **** **** 7890"),
        (T.PERSON, "张三", "张*"),
        (T.PERSON, "张小明", "张**"),
        (T.PERSON, "欧阳娜娜", "欧阳**"),
        (T.PERSON, "欧阳娜", "欧阳*"),
        (T.PERSON, "司马光", "司马*"),
        (T.PERSON, "诸葛亮", "诸葛*"),
        (T.PERSON, "欧阳", "欧*"),
        (T.PERSON, "买买提·艾力", "买**·**"),
        (T.PERSON, "John Smith", "J*** S****"),
        (T.PERSON, "Mary-Jane Watson", "M***-**** W*****"),
        (T.PERSON, "J K", "* *"),
        (T.EMAIL, "zhangsan@example.com", "z***@example.com"),
        (T.EMAIL, "Z.San@QQ.com", "Z***@QQ.com"),
        (T.EMAIL, "a@b.cn", "a***@b.cn"),
        (T.ADDRESS, "广东省深圳市南山区科技园路1号", "广东省深圳市南山区******"),
        (T.ADDRESS, "北京市朝阳区建国路88号", "北京市朝阳区******"),
        (T.ADDRESS, "江苏省苏州市昆山市玉山镇", "江苏省苏州市昆山市***"),
        (T.ADDRESS, "四川省甘孜藏族自治州康定市炉城镇", "四川省甘孜藏族自治州康定市***"),
        (T.ADDRESS, "深圳南山区望京市场3栋", "深圳南山区******"),
        (T.ADDRESS, "科技园路1号", "******"),
        (T.ADDRESS, "1600 Amphitheatre Pkwy", "**** ************ ****"),
        (T.CREDENTIAL, "hunter2", "******"),
        (T.CREDENTIAL, "a-very-long-password-indeed-2024", "******"),
        (T.CREDENTIAL, "x", "******"),
        (T.PASSPORT, "E12345678", "E******78"),
        (T.TRAVEL_PERMIT, "C12345678", "C******78"),
        (T.LICENSE_PLATE, "粤B12345", "粤B***45"),
        (T.IP_ADDRESS, "192.168.1.23", "192.***.*.**"),
        (T.US_SSN, "123-45-6789", "***-**-6789"),
    ],
)
def test_default_masks(entity_type: T, value: str, expected: str) -> None:
    assert mask(value, entity_type) == expected


@pytest.mark.parametrize(
    ("entity_type", "value", "params", "expected"),
    [
        (T.PHONE, "13812345678", {"keep_first": 0}, "*******5678"),
        (T.PHONE, "13812345678", {"keep_first": 3, "keep_last": 0}, "138********"),
        (T.PHONE, "13812345678", {"mask_char": "#"}, "138####5678"),
        (T.BANK_CARD, "6222 0212 3456 7890", {"keep_first": 6}, "6222 02** **** 7890"),
        (T.PERSON, "张小明", {"keep_last": 1}, "**明"),
        (T.ID_CARD, "110101199003071234", {"keep_first": 6, "keep_last": 4}, "110101********1234"),
        # Explicit counts that would reveal everything still mask one character.
        (T.PHONE, "12345", {"keep_first": 3, "keep_last": 4}, "12*45"),
        (T.CREDENTIAL, "hunter2", {"keep_last": 1}, "******2"),
    ],
)
def test_explicit_mask_params(
    entity_type: T, value: str, params: Mapping[str, object], expected: str
) -> None:
    OPERATORS["mask"].validate(params)
    assert mask(value, entity_type, **params) == expected


def test_short_values_keep_fewer_by_default() -> None:
    assert mask("1234567", T.PHONE) == "12***67"
    assert mask("12", T.BANK_CARD) == "*2"


@given(st.text(min_size=1, max_size=40), st.sampled_from(list(T)))
def test_mask_always_changes_a_value_with_significant_characters(value: str, entity_type: T) -> None:
    result = mask(value, entity_type)
    if any(ch.isalnum() for ch in value) or entity_type is T.CREDENTIAL:
        assert result != value


# --- invalid params ---------------------------------------------------------------------------------

SECRET = "13812345678"


@pytest.mark.parametrize(
    ("operator", "params", "names"),
    [
        ("mask", {"keep_first": -1}, "keep_first"),
        ("mask", {"keep_last": -3}, "keep_last"),
        ("mask", {"keep_last": True}, "keep_last"),
        ("mask", {"keep_first": SECRET}, "keep_first"),
        ("mask", {"mask_char": "ab"}, "mask_char"),
        ("mask", {"mask_char": "5"}, "mask_char"),
        ("mask", {"mask_char": "三"}, "mask_char"),
        ("mask", {"mask_char": " "}, "mask_char"),
        ("mask", {"mask_char": ""}, "mask_char"),
        ("mask", {"colour": SECRET}, "colour"),
        ("placeholder", {"format": SECRET}, "format"),
        ("pseudonym", {"key": b"short"}, "key"),
        ("pseudonym", {"key": SECRET}, "key"),
        ("pseudonym", {"key": SECRET.encode()}, "key"),
        ("pseudonym", {"length": 4}, "length"),
        ("pseudonym", {"length": 65}, "length"),
        ("pseudonym", {"format_preserving": "yes"}, "format_preserving"),
        ("pseudonym", {"salt": SECRET}, "salt"),
        ("redact", {"replacement": 3}, "replacement"),
        ("redact", {"replacement": "x" * 65}, "replacement"),
        ("redact", {"with": SECRET}, "with"),
    ],
)
def test_invalid_params_name_the_parameter_not_the_value(
    operator: str, params: Mapping[str, object], names: str
) -> None:
    with pytest.raises(InvalidOperatorConfig) as info:
        OPERATORS[operator].validate(params)
    assert names in info.value.message
    assert SECRET not in info.value.message
    assert "short" not in info.value.message
    assert info.value.status_code == 400


def test_unknown_operator() -> None:
    with pytest.raises(InvalidOperatorConfig, match="unknown operator"):
        get_operator(SECRET)


def test_registry_is_keyed_by_name() -> None:
    assert sorted(OPERATORS) == ["mask", "placeholder", "pseudonym", "redact"]
    assert all(op.name == name for name, op in OPERATORS.items())


# --- placeholder ------------------------------------------------------------------------------------


def test_same_value_same_placeholder_across_messages() -> None:
    vault = PlaceholderVault()
    assert placeholder(vault, "13812345678", T.PHONE) == "<PHONE_1>"
    assert placeholder(vault, "张三", T.PERSON) == "<PERSON_1>"
    assert placeholder(vault, "13900001111", T.PHONE) == "<PHONE_2>"
    # A later message of the same conversation.
    assert placeholder(vault, "13812345678", T.PHONE) == "<PHONE_1>"
    assert placeholder(vault, "李四", T.PERSON) == "<PERSON_2>"
    assert len(vault) == 4


@pytest.mark.parametrize(
    ("entity_type", "forms"),
    [
        (
            T.PHONE,
            [
                "13812345678",
                "138 1234 5678",
                "138-1234-5678",
                "幺三八幺二三四五六七八",
                "１３８１２３４５６７８",
            ],
        ),
        (T.PHONE, ["幺三八 幺二三四 五六七八", "+86 138 1234 5678", "0086 13812345678"]),
        (T.PHONE, ["13900001119", "幺三勾 洞洞洞洞 幺幺幺勾", "幺三九洞洞洞洞幺幺幺九"]),
        (T.EMAIL, ["ZhangSan@Example.com", "zhangsan@example.com", "ZHANGSAN@EXAMPLE.COM"]),
        (T.ID_CARD, ["11010119900307123X", "11010119900307123x", "110101 19900307 123X"]),
        (T.PERSON, ["张三", "张 三"]),
    ],
)
def test_placeholder_normalization(entity_type: T, forms: list[str]) -> None:
    vault = PlaceholderVault()
    assert {placeholder(vault, form, entity_type) for form in forms} == {f"<{entity_type}_1>"}


def test_same_value_different_types_get_different_placeholders() -> None:
    vault = PlaceholderVault()
    assert placeholder(vault, "13812345678", T.PHONE) != placeholder(vault, "13812345678", T.BANK_CARD)


def test_restore_round_trip_uses_first_seen_form() -> None:
    vault = PlaceholderVault()
    phone = placeholder(vault, "138 1234 5678", T.PHONE)
    name = placeholder(vault, "张三", T.PERSON)
    assert placeholder(vault, "13812345678", T.PHONE) == phone
    answer = f"好的{name}，我们会致电 {phone}。"
    assert vault.restore(answer) == "好的张三，我们会致电 138 1234 5678。"


def test_restore_is_lenient_about_model_formatting() -> None:
    vault = PlaceholderVault()
    placeholder(vault, "13812345678", T.PHONE)
    assert (
        vault.restore("call <phone_1>, < PHONE_1 >, ＜PHONE_1＞")
        == "call 13812345678, 13812345678, 13812345678"
    )


def test_restore_allow_set() -> None:
    vault = PlaceholderVault()
    own = placeholder(vault, "13812345678", T.PHONE)
    other = placeholder(vault, "13900001111", T.PHONE)
    name = placeholder(vault, "张三", T.PERSON)
    text = f"{own} {other} {name}"
    assert vault.restore(text, allow={own}) == f"13812345678 {other} {name}"
    assert vault.restore(text, allow_types={T.PERSON}) == f"{own} {other} 张三"
    assert vault.restore(text, allow={own, name}, allow_types={T.PHONE}) == f"13812345678 {other} {name}"
    assert vault.restore(text, allow=set()) == text
    assert vault.placeholders(types={T.PHONE}) == {own, other}


def test_unknown_placeholders_kept_or_removed() -> None:
    vault = PlaceholderVault()
    placeholder(vault, "13812345678", T.PHONE)
    text = "<PHONE_1> or <PHONE_9> or <ORDER_1>"
    assert vault.restore(text) == "13812345678 or <PHONE_9> or <ORDER_1>"
    assert vault.restore(text, unknown="remove") == "13812345678 or  or "
    with pytest.raises(BadInput):
        vault.restore(text, unknown="drop")  # type: ignore[arg-type]


@given(st.text())
def test_restore_never_raises(text: str) -> None:
    vault = PlaceholderVault()
    placeholder(vault, "13812345678", T.PHONE)
    vault.restore(text)
    vault.restore(text, unknown="remove", allow=set())


def test_placeholder_needs_a_vault() -> None:
    with pytest.raises(InvalidOperatorConfig, match="PlaceholderVault"):
        OPERATORS["placeholder"].operate("x", entity_type=T.PHONE, params={}, state=STATE)


def test_vault_repr_and_snapshot() -> None:
    vault = PlaceholderVault()
    placeholder(vault, "13812345678", T.PHONE)
    placeholder(vault, "张三", T.PERSON)
    assert "138" not in repr(vault)
    assert "张" not in repr(vault)
    copy = PlaceholderVault.from_dict(vault.to_dict())
    assert copy.restore("<PHONE_1><PERSON_1>") == "13812345678张三"
    assert placeholder(copy, "138 1234 5678", T.PHONE) == "<PHONE_1>"
    assert placeholder(copy, "李四", T.PERSON) == "<PERSON_2>"
    with pytest.raises(BadInput, match="malformed"):
        PlaceholderVault.from_dict({"version": 1, "entries": [{"type": "NOPE"}], "counters": {}})


# --- pseudonym --------------------------------------------------------------------------------------


def test_pseudonym_is_deterministic_and_normalized() -> None:
    token = pseudonym("13812345678", T.PHONE)
    assert re.fullmatch(r"PHONE_[0-9a-f]{8}", token)
    assert pseudonym("138 1234 5678", T.PHONE) == token
    assert pseudonym("幺三八 幺二三四 五六七八", T.PHONE) == token
    assert pseudonym("13812345678", T.BANK_CARD) != f"BANK_CARD_{token[6:]}"
    assert re.fullmatch(r"PHONE_[0-9a-f]{20}", pseudonym("13812345678", T.PHONE, length=20))


def test_pseudonym_depends_on_key() -> None:
    assert pseudonym("13812345678", T.PHONE) != pseudonym("13812345678", T.PHONE, key=OTHER_KEY)
    fp = {"format_preserving": True}
    assert pseudonym("13812345678", T.PHONE, **fp) != pseudonym("13812345678", T.PHONE, key=OTHER_KEY, **fp)


def test_pseudonym_key_from_state() -> None:
    state = OperatorState(pseudonym_key=KEY)
    operator = OPERATORS["pseudonym"]
    assert operator.operate("13812345678", entity_type=T.PHONE, params={}, state=state) == pseudonym(
        "13812345678", T.PHONE
    )
    with pytest.raises(InvalidOperatorConfig, match="key"):
        operator.operate("13812345678", entity_type=T.PHONE, params={}, state=STATE)


@pytest.mark.parametrize(
    ("entity_type", "value", "pattern"),
    [
        (T.PHONE, "13812345678", r"1[3-9]\d{9}"),
        (T.PHONE, "138 1234 5678", r"1[3-9]\d \d{4} \d{4}"),
        (T.PHONE, "+86 138-1234-5678", r"\+86 1[3-9]\d-\d{4}-\d{4}"),
        (
            T.PHONE,
            "幺三八 幺二三四 五六七八",
            r"一[三四五六七八九][零一二三四五六七八九] [零一二三四五六七八九]{4} [零一二三四五六七八九]{4}",
        ),
        (T.PHONE, "１３８１２３４５６７８", r"１[３-９][０-９]{9}"),
        (T.PHONE, "010-12345678", r"0\d{2}-\d{8}"),
        (T.PHONE, "400-123-4567", r"400-\d{3}-\d{4}"),
        (T.EMAIL, "Zhang.San@example.com", r"[A-Z][a-z]{4}\.[A-Z][a-z]{2}@[a-z]{7}\.com"),
        (T.PERSON, "张三", r"[\u4e00-\u9fff]{2}"),
        (T.PERSON, "John Smith", r"[A-Z][a-z]{3} [A-Z][a-z]{4}"),
        (T.LICENSE_PLATE, "粤B12345", r"[\u4e00-\u9fff][A-Z]\d{5}"),
        (T.ADDRESS, "北京市朝阳区建国路88号", r"[\u4e00-\u9fff]{9}\d\d[\u4e00-\u9fff]"),
        (T.ID_CARD, "11010119900307123X", r"[1-6]\d{16}X"),
    ],
)
def test_format_preserving_keeps_shape(entity_type: T, value: str, pattern: str) -> None:
    result = pseudonym(value, entity_type, format_preserving=True)
    assert len(result) == len(value)
    assert result != value
    assert re.fullmatch(pattern, result), result


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _id_check(number: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(w * int(d) for w, d in zip(weights, number[:17], strict=True)) % 11]


@pytest.mark.parametrize("value", ["110101199003071234", "44030419851231002X", "320102200001010017"])
def test_format_preserving_id_card_has_valid_check(value: str) -> None:
    result = pseudonym(value, T.ID_CARD, format_preserving=True)
    assert result[17] == _id_check(result)
    assert result[17].isdigit() == value[17].isdigit()


@pytest.mark.parametrize("value", ["6222021234567890", "6222 0212 3456 7890", "4111111111111111"])
def test_format_preserving_bank_card_is_luhn_valid(value: str) -> None:
    result = pseudonym(value, T.BANK_CARD, format_preserving=True)
    digits = result.replace(" ", "")
    assert _luhn_ok(digits)
    assert digits[0] == value[0]
    assert [i for i, c in enumerate(result) if c == " "] == [i for i, c in enumerate(value) if c == " "]


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=30),
    st.sampled_from([T.PHONE, T.BANK_CARD, T.ID_CARD, T.US_SSN, T.PASSPORT, T.CREDENTIAL, T.PERSON]),
)
def test_format_preserving_digits_stay_digits(value: str, entity_type: T) -> None:
    result = pseudonym(value, entity_type, format_preserving=True)
    assert len(result) == len(value)
    assert all(ch in "0123456789" for ch in result)
    assert result == pseudonym(value, entity_type, format_preserving=True)


@given(st.text(min_size=1, max_size=30), st.sampled_from(list(T)))
def test_format_preserving_keeps_length_and_separators(value: str, entity_type: T) -> None:
    result = pseudonym(value, entity_type, format_preserving=True)
    assert len(result) == len(value)
    for original, new in zip(value, result, strict=True):
        if not (original.isalnum() or original in "零〇一二三四五六七八九幺两洞拐勾"):
            assert new == original


# --- redact -----------------------------------------------------------------------------------------


def test_redact() -> None:
    operator = OPERATORS["redact"]
    assert operator.operate("张三", entity_type=T.PERSON, params={}, state=STATE) == ""
    params = {"replacement": "[已隐藏]"}
    operator.validate(params)
    assert operator.operate("张三", entity_type=T.PERSON, params=params, state=STATE) == "[已隐藏]"
