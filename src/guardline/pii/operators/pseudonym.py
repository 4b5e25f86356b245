"""The ``pseudonym`` operator: consistent keyed pseudonyms, HMAC-SHA256 over (type, normalized value).

Security rationale: a plain hash of a phone number is reversible by enumerating the ~10^10 numbers,
so the pseudonym is keyed (HMAC, key ≥ 16 bytes) and only the key holder can link a pseudonym to a
value. The same value under one key always gives the same pseudonym, so an analyst can still count
"this caller called three times" without seeing the number. Pseudonyms are not reversible.

Default output is ``PHONE_3f9a2c1b`` (type, underscore, ``length`` hex characters, default 8).
With ``format_preserving=True`` the output keeps the value's length, separators and character
classes: digits stay digits of the same width (ASCII, full-width, Chinese numerals), letters keep
their case, ideographs come from a fixed list of common characters (surnames first for PERSON).
Phones stay valid-looking (mobile: 1 then 3-9; a landline keeps its leading 0, a 400/800 hotline its
prefix, a +86 code is kept), ID cards get a valid check character, bank cards keep the first digit
and a valid Luhn digit, emails keep "@" and the top-level domain. Short values can collide.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping

from guardline.errors import InvalidOperatorConfig
from guardline.pii.entities import EntityType
from guardline.pii.operators._text import (
    CN_DIGITS,
    code_key,
    is_cjk,
    is_significant,
    normalize_key,
    phone_country_prefix,
    to_ascii_digit,
)
from guardline.pii.operators.base import OperatorState, check_int, check_keys, get_int

MIN_KEY_BYTES = 16
DEFAULT_LENGTH = 8
_DOMAIN = b"guardline/pseudonym/v1\x00"
_FP_DOMAIN = b"guardline/pseudonym-fp/v1\x00"
_MAX_ATTEMPTS = 32

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶"
    "黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉玉红云飞鹏宇浩然轩欣怡"
    "晨阳佳琪梓涵诺雨萱思博俊凯嘉豪婷雪梅琳晶莉燕慧颖倩洁玲丹峰斌波宁健"
)
_COMMON = (
    "的是在有和人这中大为上个我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经之进着等部度家电力里如水化高自理起小物现实"
    "加量都体制机当使点从业本去把性好应开它合还因由其些然前外天政日那社义事平形相全表"
    "间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月"
    "公无系军很情者最立代想已通并提直题党程展果料象员革位入常文总次品式活设及管特件长"
    "求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几区强放决西被干做必"
    "战先回则任取据处队南给色光门即保治北造百规热领海口东导器压志世金增争济阶油思术极"
    "交受联什认共权收证改清己美再采转更单风切打白教速花带安场身车例真务具每目至达走积"
    "示议声报斗完类离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林"
    "律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省"
    "列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效"
    "斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该"
    "铁价严龙"
)
_CN_NUMERALS = "零一二三四五六七八九"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Types whose Chinese numerals are digits (a spoken number) rather than ideographs (张一鸣).
_NUMERIC_TYPES = frozenset(
    {
        EntityType.PHONE,
        EntityType.ID_CARD,
        EntityType.BANK_CARD,
        EntityType.US_SSN,
        EntityType.PASSPORT,
        EntityType.TRAVEL_PERMIT,
        EntityType.LICENSE_PLATE,
        EntityType.IP_ADDRESS,
    }
)


def _stream(key: bytes, message: bytes, attempt: int) -> Iterator[int]:
    """Deterministic keyed 16-bit values (HMAC-SHA256 in counter mode)."""
    counter = 0
    while True:
        block = hmac.new(
            key,
            _FP_DOMAIN + attempt.to_bytes(4, "big") + counter.to_bytes(4, "big") + message,
            hashlib.sha256,
        ).digest()
        for i in range(0, len(block), 2):
            yield int.from_bytes(block[i : i + 2], "big")
        counter += 1


def _pick(alphabet: str, rng: Iterator[int]) -> str:
    return alphabet[next(rng) % len(alphabet)]


def _render_digit(digit: int, like: str) -> str:
    if "０" <= like <= "９":
        return chr(ord("０") + digit)
    if like in CN_DIGITS:
        return _CN_NUMERALS[digit]
    return str(digit)


def _is_digit_like(ch: str, entity_type: EntityType) -> bool:
    return ch.isdecimal() or (ch in CN_DIGITS and entity_type in _NUMERIC_TYPES)


def _replace_char(ch: str, index: int, entity_type: EntityType, rng: Iterator[int]) -> str:
    if _is_digit_like(ch, entity_type):
        return _render_digit(next(rng) % 10, ch)
    if is_cjk(ch):
        if entity_type is EntityType.PERSON:
            return _pick(_SURNAMES if index == 0 else _GIVEN, rng)
        return _pick(_COMMON, rng)
    if "Ａ" <= ch <= "Ｚ":
        return chr(ord("Ａ") + next(rng) % 26)
    if "ａ" <= ch <= "ｚ":
        return chr(ord("ａ") + next(rng) % 26)
    if ch.isalpha():
        letter = chr(ord("a") + next(rng) % 26)
        return letter.upper() if ch.isupper() else letter
    return _render_digit(next(rng) % 10, "0")  # other numeric symbols (½, ²)


def _fixed_positions(value: str, entity_type: EntityType) -> set[int]:
    """Indices of characters kept verbatim: a phone's country code, an email's top-level domain."""
    sig = [i for i, ch in enumerate(value) if is_significant(ch)]
    if entity_type is EntityType.PHONE:
        return set(sig[: phone_country_prefix(value)])
    if entity_type is EntityType.EMAIL:
        at = value.rfind("@")
        dot = value.rfind(".")
        if 0 <= at < dot:
            return {i for i in sig if i > dot}
    return set()


def _format_preserving(
    value: str, entity_type: EntityType, key: bytes, message: bytes, *, constrained: bool = True
) -> str:
    fixed = _fixed_positions(value, entity_type) if constrained else set()
    positions = [i for i, ch in enumerate(value) if is_significant(ch) and i not in fixed]
    original_key = code_key(value)
    for attempt in range(_MAX_ATTEMPTS if positions else 0):
        rng = _stream(key, message, attempt)
        chars = list(value)
        for n, i in enumerate(positions):
            chars[i] = _replace_char(value[i], n, entity_type, rng)
        valid = _apply_rules(chars, positions, value, entity_type, rng) if constrained else True
        candidate = "".join(chars)
        # Never hand back the value itself (a short value can draw itself, or be all fixed parts).
        if valid and code_key(candidate) != original_key:
            return candidate
    if constrained:
        return _format_preserving(value, entity_type, key, message, constrained=False)
    return value  # no significant characters: nothing to replace


def _apply_rules(
    chars: list[str], positions: list[int], value: str, entity_type: EntityType, rng: Iterator[int]
) -> bool:
    """Make numbers look valid (mobile prefix, ID check character, Luhn); False asks for a retry."""
    if not all(_is_digit_like(value[i], entity_type) or value[i] in "xX" for i in positions):
        return True
    digits = [to_ascii_digit(value[i]) for i in positions]

    def put(n: int, digit: int) -> None:
        chars[positions[n]] = _render_digit(digit, value[positions[n]])

    if entity_type is EntityType.PHONE and None not in digits:
        national = "".join(d for d in digits if d is not None)
        if len(national) == 11 and national[0] == "1":
            put(0, 1)
            put(1, 3 + next(rng) % 7)
        elif national[:3] in ("400", "800"):
            for n in range(3):
                put(n, int(national[n]))
        elif national[0] == "0":
            put(0, 0)
    elif entity_type is EntityType.BANK_CARD and None not in digits and 13 <= len(digits) <= 19:
        put(0, int(digits[0] or 0))
        body = [int(to_ascii_digit(chars[i]) or 0) for i in positions[:-1]]
        total = 0
        for k, d in enumerate(reversed(body)):
            if k % 2 == 0:
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        put(len(positions) - 1, (10 - total % 10) % 10)
    elif entity_type is EntityType.ID_CARD and len(positions) == 18 and None not in digits[:17]:
        put(0, 1 + next(rng) % 6)
        body = [int(to_ascii_digit(chars[i]) or 0) for i in positions[:17]]
        check = _ID_CHECK[sum(w * d for w, d in zip(_ID_WEIGHTS, body, strict=True)) % 11]
        last = positions[17]
        if (check == "X") != (value[last] in "xX"):
            return False  # keep the original's class (digit or X): try the next keyed draw
        chars[last] = value[last] if check == "X" else _render_digit(int(check), value[last])
    return True


class PseudonymOperator:
    """Replace the value with a keyed, deterministic pseudonym."""

    name = "pseudonym"
    _allowed = frozenset({"key", "length", "format_preserving"})

    def validate(self, params: Mapping[str, object]) -> None:
        check_keys(self.name, params, self._allowed)
        if "key" in params:
            validate_key(params["key"], source=f"{self.name}: key")
        check_int(self.name, params, "length", minimum=8, maximum=64)
        if "format_preserving" in params and not isinstance(params["format_preserving"], bool):
            raise InvalidOperatorConfig(f"{self.name}: format_preserving must be true or false")

    def operate(
        self,
        value: str,
        *,
        entity_type: EntityType,
        params: Mapping[str, object],
        state: OperatorState,
    ) -> str:
        raw_key = params.get("key", state.pseudonym_key)
        if not isinstance(raw_key, bytes):
            raise InvalidOperatorConfig(f"{self.name}: needs a key of at least {MIN_KEY_BYTES} bytes")
        entity_type = EntityType(entity_type)
        message = (
            entity_type.value.encode()
            + b"\x00"
            + normalize_key(entity_type, value).encode("utf-8", "surrogatepass")
        )
        if params.get("format_preserving") is True:
            return _format_preserving(value, entity_type, raw_key, message)
        digest = hmac.new(raw_key, _DOMAIN + message, hashlib.sha256).hexdigest()
        return f"{entity_type.value}_{digest[: get_int(params, 'length', DEFAULT_LENGTH)]}"


def validate_key(key: object, *, source: str) -> None:
    """Raise InvalidOperatorConfig unless ``key`` is bytes of at least MIN_KEY_BYTES (never echo it)."""
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise InvalidOperatorConfig(f"{source} must be bytes of at least {MIN_KEY_BYTES} bytes")
