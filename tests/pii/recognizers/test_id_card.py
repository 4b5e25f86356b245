"""ID_CARD end to end: 18-digit IDs with valid check characters, legacy 15-digit IDs after a cue."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import resident_id, spans, wrong_check_id

BEIJING = resident_id("11010519880312123")  # check character 6
SHENZHEN = resident_id("44030819990101123")  # check character 4
X_CHECK = resident_id("11010519491231002")  # check character X
assert (BEIJING[-1], SHENZHEN[-1], X_CHECK[-1]) == ("6", "4", "X")
HANGZHOU = resident_id("33010619850615231")
WRONG = wrong_check_id("33010619850615231")

POSITIVE = [
    (f"身份证号{BEIJING}", "zh", T.ID_CARD, BEIJING),
    (f"我的身份证是 {SHENZHEN} 谢谢", "zh", T.ID_CARD, SHENZHEN),
    (f"{HANGZHOU}", "zh", T.ID_CARD, HANGZHOU),  # a valid check character needs no cue
    (f"帮我查一下{HANGZHOU}的信息", "zh", T.ID_CARD, HANGZHOU),
    (f"身份证{X_CHECK}", "zh", T.ID_CARD, X_CHECK),
    (f"身份证{X_CHECK.lower()}", "zh", T.ID_CARD, X_CHECK.lower()),
    (f"证件号码：{X_CHECK}，", "zh", T.ID_CARD, X_CHECK),
    ("身份证 110105 19880312 1236", "zh", T.ID_CARD, "110105 19880312 1236"),
    (
        "身份证号是幺幺零幺零五 幺九八八零三幺二 幺二三六",
        "zh",
        T.ID_CARD,
        "幺幺零幺零五 幺九八八零三幺二 幺二三六",
    ),
    ("身份证号１１０１０５１９８８０３１２１２３６", "zh", T.ID_CARD, "１１０１０５１９８８０３１２１２３６"),
    ("my ID number is " + SHENZHEN, "en", T.ID_CARD, SHENZHEN),
    # legacy 15-digit ID (YYMMDD, no check digit) after an ID cue
    ("身份证号110105880312123", "zh", T.ID_CARD, "110105880312123"),
    ("老身份证是 330106850615231", "zh", T.ID_CARD, "330106850615231"),
    # a mistyped check character right after an ID cue is still the customer's ID
    (f"身份证号{WRONG}", "zh", T.ID_CARD, WRONG),
]

NEGATIVE = [
    (WRONG, "zh"),  # invalid check character, no cue
    (f"这个号{WRONG}是什么", "zh"),
    ("110105880312123", "zh"),  # legacy shape without a cue
    (f"订单号{BEIJING}", "zh"),
    (f"快递单号 {HANGZHOU}", "zh"),
    (resident_id("11010519880230123"), "zh"),  # 30 February
    (resident_id("99010519880312123"), "zh"),  # no province 99
    (resident_id("11010520990312123"), "zh"),  # born in the future
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_id_card_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_an_id_card(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.ID_CARD) == []
