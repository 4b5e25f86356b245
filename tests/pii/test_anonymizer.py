"""Tests for anonymize/deanonymize: configuration, overlaps, output offsets, and safety properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardline.errors import BadInput, InvalidOperatorConfig
from guardline.pii.anonymizer import (
    MASK,
    PLACEHOLDER,
    REDACT,
    AnonymizeResult,
    OperatorConfig,
    anonymize,
    deanonymize,
)
from guardline.pii.entities import Entity
from guardline.pii.entities import EntityType as T
from guardline.pii.operators import PlaceholderVault

KEY = b"0123456789abcdef"
TEXT = "我叫张三，电话13812345678，邮箱zhangsan@example.com。"


def span(text: str, value: str, entity_type: T, score: float = 0.9) -> Entity:
    start = text.index(value)
    return Entity(start, start + len(value), entity_type, score)


ENTITIES = [
    span(TEXT, "zhangsan@example.com", T.EMAIL),
    span(TEXT, "张三", T.PERSON),
    span(TEXT, "13812345678", T.PHONE),
]  # deliberately unsorted


def check_items(result: AnonymizeResult, source: str) -> None:
    """Items are in bounds, ordered, and everything between them is the source text unchanged."""
    out = result.text
    previous_end, previous_source_end = 0, 0
    for item in result.items:
        assert 0 <= previous_end <= item.start <= item.end <= len(out)
        assert out[previous_end : item.start] == source[previous_source_end : item.source_start]
        previous_end, previous_source_end = item.end, item.source_end
    assert out[previous_end:] == source[previous_source_end:]


def test_default_mask() -> None:
    result = anonymize(TEXT, ENTITIES)
    assert result.text == "我叫张*，电话138****5678，邮箱z***@example.com。"
    assert [(i.type, result.text[i.start : i.end], i.operator) for i in result.items] == [
        (T.PERSON, "张*", "mask"),
        (T.PHONE, "138****5678", "mask"),
        (T.EMAIL, "z***@example.com", "mask"),
    ]
    assert result.vault is None
    check_items(result, TEXT)


def test_operators_per_type_by_enum_or_name() -> None:
    result = anonymize(
        TEXT,
        ENTITIES,
        operators={
            T.PHONE: PLACEHOLDER,
            "EMAIL": "redact",
            T.PERSON: OperatorConfig("mask", {"mask_char": "#"}),
        },
    )
    assert result.text == "我叫张#，电话<PHONE_1>，邮箱。"
    assert [i.operator for i in result.items] == ["mask", "placeholder", "redact"]
    assert result.placeholders() == {"<PHONE_1>"}
    assert result.vault is not None
    check_items(result, TEXT)


def test_placeholders_continue_across_messages_and_restore() -> None:
    vault = PlaceholderVault()
    first = anonymize(TEXT, ENTITIES, default=PLACEHOLDER, vault=vault)
    assert first.text == "我叫<PERSON_1>，电话<PHONE_1>，邮箱<EMAIL_1>。"
    second_text = "换个号码 139 0000 1111，原来的 138 1234 5678 不用了"
    second = anonymize(
        second_text,
        [span(second_text, "138 1234 5678", T.PHONE), span(second_text, "139 0000 1111", T.PHONE)],
        default=PLACEHOLDER,
        vault=vault,
    )
    assert second.vault is vault
    assert second.text == "换个号码 <PHONE_2>，原来的 <PHONE_1> 不用了"
    answer = "<PERSON_1>您好，已将 <PHONE_1> 改为 <PHONE_2>，<PHONE_7> 无记录。"
    assert (
        deanonymize(answer, vault=vault)
        == "张三您好，已将 13812345678 改为 139 0000 1111，<PHONE_7> 无记录。"
    )
    assert (
        deanonymize(answer, vault=vault, allow=second.placeholders(), unknown="remove")
        == "<PERSON_1>您好，已将 13812345678 改为 139 0000 1111， 无记录。"
    )


def test_pseudonym_key_argument() -> None:
    result = anonymize(TEXT, ENTITIES, default="pseudonym", pseudonym_key=KEY)
    again = anonymize(TEXT, ENTITIES, default="pseudonym", pseudonym_key=KEY)
    other = anonymize(TEXT, ENTITIES, default="pseudonym", pseudonym_key=KEY[::-1])
    assert result.text == again.text != other.text
    assert "13812345678" not in result.text
    check_items(result, TEXT)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"default": "nope"}, "unknown operator"),
        ({"default": OperatorConfig("mask", {"keep_first": -1})}, "keep_first"),
        ({"operators": {"PHONEE": MASK}}, "entity types"),
        ({"operators": {T.PHONE: OperatorConfig("redact", {"replace": "x"})}}, "replace"),
        ({"default": "pseudonym"}, "pseudonym_key"),
        ({"default": "pseudonym", "pseudonym_key": b"short"}, "pseudonym_key"),
        ({"default": OperatorConfig("pseudonym", {"key": b"short"})}, "key"),
    ],
)
def test_bad_config_is_rejected_up_front(kwargs: dict[str, object], fragment: str) -> None:
    # Raised even with no entities: configuration is validated before any value is touched.
    for entities in ([], ENTITIES):
        with pytest.raises(InvalidOperatorConfig) as info:
            anonymize(TEXT, entities, **kwargs)  # type: ignore[arg-type]
        assert fragment in info.value.message
        assert "138" not in info.value.message
        assert "short" not in info.value.message


def test_config_params_must_be_a_mapping() -> None:
    with pytest.raises(InvalidOperatorConfig, match="params"):
        OperatorConfig("mask", ["keep_first"])  # type: ignore[arg-type]


def test_config_repr_hides_key() -> None:
    config = OperatorConfig("pseudonym", {"key": KEY})
    assert "0123456789" not in repr(config)
    assert "key" in repr(config)


def test_out_of_bounds_entity_is_bad_input() -> None:
    with pytest.raises(BadInput, match="outside the text"):
        anonymize("短", [Entity(0, 5, T.PHONE, 1.0)])
    with pytest.raises(BadInput):
        anonymize("短", [Entity(-1, 1, T.PHONE, 1.0)])


def test_empty_entities_are_ignored() -> None:
    result = anonymize("abc", [Entity(1, 1, T.PHONE, 1.0)])
    assert result.text == "abc"
    assert result.items == ()


@pytest.mark.parametrize(
    ("entities", "expected_text", "expected_type"),
    [
        # Nested: the longer entity wins.
        ([Entity(0, 11, T.PHONE, 0.5), Entity(3, 7, T.BANK_CARD, 0.99)], "138****5678", T.PHONE),
        # Same span: the higher score wins.
        ([Entity(0, 11, T.BANK_CARD, 0.4), Entity(0, 11, T.PHONE, 0.8)], "138****5678", T.PHONE),
        # Partial overlap: the winner's operator covers the union, leaving nothing flagged in clear.
        ([Entity(0, 6, T.PHONE, 0.9), Entity(3, 11, T.BANK_CARD, 0.9)], "*******5678", T.BANK_CARD),
        # Duplicates collapse.
        ([Entity(0, 11, T.PHONE, 0.9)] * 3, "138****5678", T.PHONE),
    ],
)
def test_overlaps(entities: list[Entity], expected_text: str, expected_type: T) -> None:
    result = anonymize("13812345678", entities)
    assert result.text == expected_text
    assert [(i.type, i.start, i.end) for i in result.items] == [(expected_type, 0, 11)]


def test_adjacent_entities_stay_separate() -> None:
    text = "张三13812345678"
    result = anonymize(text, [Entity(2, 13, T.PHONE, 0.9), Entity(0, 2, T.PERSON, 0.9)])
    assert result.text == "张*138****5678"
    assert [(i.type, i.start, i.end) for i in result.items] == [(T.PERSON, 0, 2), (T.PHONE, 2, 13)]


# --- properties -------------------------------------------------------------------------------------

_SIGNIFICANT_EXTRA = set("零〇一二三四五六七八九幺两洞拐勾")


def _significant(value: str) -> bool:
    return any(ch.isalnum() or ch in _SIGNIFICANT_EXTRA for ch in value)


@st.composite
def text_and_entities(draw: st.DrawFn) -> tuple[str, list[Entity]]:
    alphabet = st.sampled_from("0123456789１２３幺三八两洞拐张欧阳明abcXYZ@.- ·，,\n") | st.characters()
    text = draw(st.text(alphabet=alphabet, max_size=60))
    bounds = st.integers(min_value=0, max_value=len(text))
    entities = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        a, b = sorted((draw(bounds), draw(bounds)))
        score = draw(st.floats(min_value=0, max_value=1))
        entities.append(Entity(a, b, draw(st.sampled_from(list(T))), score))
    return text, entities


CONFIGS = [
    MASK,
    OperatorConfig("mask", {"keep_first": 0, "keep_last": 0}),
    REDACT,
    OperatorConfig("redact", {"replacement": "[X]"}),
    PLACEHOLDER,
    OperatorConfig("pseudonym"),
    OperatorConfig("pseudonym", {"format_preserving": True}),
]


@settings(max_examples=300)
@given(text_and_entities(), st.sampled_from(CONFIGS))
def test_anonymize_is_total_and_hides_values(case: tuple[str, list[Entity]], config: OperatorConfig) -> None:
    text, entities = case
    result = anonymize(text, entities, default=config, pseudonym_key=KEY)
    check_items(result, text)
    for item in result.items:
        value = text[item.source_start : item.source_end]
        replaced = result.text[item.start : item.end]
        if len(value) >= 4 and _significant(value):
            assert replaced != value
    if config.params.get("keep_first") == 0:
        # Fully masked: no entity's value can survive anywhere inside its replacement.
        for entity in entities:
            value = entity.value(text)
            if len(value) >= 4 and _significant(value):
                item = next(i for i in result.items if i.source_start <= entity.start < i.source_end)
                assert value not in result.text[item.start : item.end]


@given(text_and_entities())
def test_placeholder_round_trip(case: tuple[str, list[Entity]]) -> None:
    text, entities = case
    if "<" in text or "＜" in text:
        return  # text that already holds placeholder-like markup is not restored verbatim
    result = anonymize(text, entities, default=PLACEHOLDER)
    assert result.vault is not None
    restored = deanonymize(result.text, vault=result.vault)
    # Equal values share a placeholder, which restores to the first-seen form of the value.
    if len({result.text[i.start : i.end] for i in result.items}) == len(result.items):
        assert restored == text
