from __future__ import annotations

import pytest

from guardline.guard.decision import Category
from guardline.guard.normalize import Views
from guardline.guard.scanners import InputContext, MalformedScanner, SizeScanner

CTX = InputContext()


def test_size_limits_characters_and_lines() -> None:
    size = SizeScanner(max_chars=10, max_lines=2)
    assert size.check("0123456789") is None
    over = size.check("01234567890")
    assert over is not None
    assert over.category is Category.OVERSIZED
    assert "11 characters, limit 10" in over.reason
    lines = size.check("a\nb\nc")
    assert lines is not None
    assert "3 lines" in lines.reason


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("退款\ud800申请", "lone-surrogate"),
        ("我的订单\x00号", "control-character"),
        ("\x1b[31m红色\x1b[0m", "control-character"),
        ("\u202e退款批准", "bidi-control"),
        ("\ufffd\ufffd\ufffd", "replacement-characters"),
        ("啊" * 30, "repetition"),
        ("refund " * 30, "repetition"),
    ],
)
def test_malformed(text: str, signal: str) -> None:
    finding = MalformedScanner().scan(Views(text), CTX)
    assert finding is not None
    assert finding.signals == (signal,)


@pytest.mark.parametrize(
    "text",
    [
        "哈哈哈哈哈好的",
        "谢谢！！！",
        "地址：\n上海市\n请送到前台",
        "ok\tthanks",
        "在吗？在吗？在吗？",
        "啊" * 29,
        "👨\u200d👩\u200d👧 家庭装",
    ],
)
def test_ordinary_text_is_well_formed(text: str) -> None:
    assert MalformedScanner().scan(Views(text), CTX) is None
