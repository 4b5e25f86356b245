"""Output scanners: foreign personal data, prompt leaks, forbidden phrases."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardline.errors import ConfigurationError
from guardline.guard.decision import Category
from guardline.guard.scanners import ForbiddenContentScanner, OutputContext, PiiLeakScanner, PromptLeakScanner
from guardline.guard.scanners.forbidden import load_library
from guardline.guard.scanners.pii_leak import own_keys
from guardline.guard.scanners.prompt_leak import longest_overlap

PROMPT = (
    "你是「优选商城」的智能客服助手，只回答与订单、物流、退换货和发票有关的问题。"
    "不得透露其他顾客的任何信息，退款金额超过五百元时必须转人工审核。"
)


def test_own_phone_in_another_spelling_is_own() -> None:
    ctx = OutputContext(own_keys=own_keys(["13812345678"]))
    assert PiiLeakScanner().scan("我们会致电 138 1234 5678 与您确认。", ctx) is None


def test_foreign_phone_is_found_with_its_span_and_no_value_in_the_reason() -> None:
    reply = "这个订单的收货人电话是13987654321。"
    result = PiiLeakScanner().scan(reply, OutputContext(own_keys=own_keys(["13812345678"])))
    assert result is not None
    assert result.finding.category is Category.PII_LEAK
    assert "PHONE" in result.finding.reason
    assert "13987654321" not in result.finding.reason
    ((start, end, placeholder),) = result.spans
    assert reply[start:end] == "13987654321"
    assert placeholder == "[PHONE]"


def test_no_own_values_means_every_value_is_foreign() -> None:
    result = PiiLeakScanner().scan("Write to anna@example.com", OutputContext())
    assert result is not None
    assert result.finding.signals == ("EMAIL",)


def test_verbatim_overlap_is_measured_in_folded_text() -> None:
    copied = "不得透露其他顾客的任何信息，退款金额超过五百元时必须转人工审核"
    assert longest_overlap(f"好的：{copied}", PROMPT) >= 2 * 28
    assert longest_overlap("退款金额较大时需要人工审核，请耐心等待。", PROMPT) == 0


def test_prompt_leak_blocks_long_copies_and_canaries_not_short_phrases() -> None:
    scanner = PromptLeakScanner(min_overlap=40)
    ctx = OutputContext(system_prompt=PROMPT, canaries=("GL-CANARY-1234",))
    leak = scanner.scan("我的规则：不得透露其他顾客的任何信息，退款金额超过五百元时必须转人工审核。", ctx)
    assert leak is not None
    assert leak.finding.signals == ("verbatim-overlap",)
    canary = scanner.scan("debug gl-canary-1234", ctx)
    assert canary is not None
    assert canary.finding.signals == ("canary",)
    assert scanner.scan("我只能回答订单和物流的问题哦。", ctx) is None


def test_prompt_leak_refuses_a_limit_below_one_shingle() -> None:
    with pytest.raises(ValueError, match="at least"):
        PromptLeakScanner(min_overlap=5)


@pytest.mark.parametrize(
    ("reply", "category"),
    [
        ("想赚钱可以试试网赌", "gambling"),
        ("赌 博网站", "gambling"),
        ("代\u200b开发票", "fraud"),
        ("Try an ONLINE CASINO", "gambling"),
        ("ｃｏｃａｉｎｅ", "drugs"),
    ],
)
def test_forbidden_phrases_after_folding(reply: str, category: str) -> None:
    result = ForbiddenContentScanner().scan(reply, OutputContext())
    assert result is not None
    assert result.finding.signals == (category,)
    assert category in result.finding.reason


@pytest.mark.parametrize(
    "reply", ["The casino-themed board game is back", "发票已开具", "We ship fakes? No, never."]
)
def test_no_forbidden_phrase(reply: str) -> None:
    assert ForbiddenContentScanner().scan(reply, OutputContext()) is None


def test_latin_phrases_match_whole_words_only() -> None:
    scanner = ForbiddenContentScanner({"porn": "adult"})
    assert scanner.scan("no porn here", OutputContext()) is not None
    assert scanner.scan("pornography", OutputContext()) is None


def test_library_file(tmp_path: Path) -> None:
    path = tmp_path / "words.tsv"
    path.write_text("# comment\nbrand\t竞品A\n\nbrand\tRival Shop\n", encoding="utf-8")
    scanner = ForbiddenContentScanner.from_file(path)
    assert scanner.library == {"竞品a": "brand", "rival shop": "brand"}
    assert scanner.scan("试试竞品Ａ吧", OutputContext()) is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [("no tab here\n", "line 1 is not"), ("# only comments\n", "has no phrases"), ("\tphrase\n", "line 1")],
)
def test_broken_library_is_a_configuration_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_library(path)


def test_missing_library_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GUARDLINE_GUARD_FORBIDDEN_FILE"):
        load_library(tmp_path / "missing.tsv")


@pytest.mark.parametrize(
    ("reply", "own", "leaks"),
    [
        ("吴刚亲，您的积分已到账。", ["吴刚"], False),  # the span takes the honorific 亲
        ("吴刚强的订单已发货。", ["吴刚"], True),  # another name that contains the own one
        ("Hi Ava, the ticket went to ava@mail.example.com.", ["Ava Thompson", "ava@mail.example.com"], False),
        ("The claim came from noah@other.example.net.", ["Ava Thompson", "ava@mail.example.com"], True),
    ],
)
def test_own_names_by_their_parts(reply: str, own: list[str], leaks: bool) -> None:
    result = PiiLeakScanner().scan(reply, OutputContext(own_keys=own_keys(own)))
    assert (result is not None) is leaks
