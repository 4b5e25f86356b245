"""The ``mask`` operator: display masks following Chinese industry convention (138****5678).

Only significant characters (letters, digits of any width, spoken Chinese numerals, ideographs) are
counted and masked; separators stay in place so a masked value keeps its familiar shape.

Per-type defaults, used when neither ``keep_first`` nor ``keep_last`` is given:

    PHONE          first 3, last 4; a +86 / 0086 country code stays visible too (it is shared by
                   every caller, so it identifies no one and tells the agent how to dial back)
    ID_CARD        first 3, last 4
    BANK_CARD      last 4
    US_SSN         last 4
    PASSPORT       first 1 (document type letter), last 2
    TRAVEL_PERMIT  first 1, last 2
    LICENSE_PLATE  first 2 (province and city code), last 2
    IP_ADDRESS     the first group (192.***.*.**)
    PERSON         Chinese: the surname, both characters for compound surnames (欧阳**);
                   other scripts: the first letter of each word (J*** S****)
    EMAIL          first character of the local part, then a fixed *** (no length), full domain
    ADDRESS        the administrative prefix through district/county level (…省…市…区), rest masked
    CREDENTIAL     nothing, and always exactly six mask characters so the length does not leak

Default keep counts are shrunk on short values so at least a third of the significant characters
is masked; explicit counts are honoured except that at least one character is always masked.
Explicit ``keep_first``/``keep_last`` replace the type's style: a missing one then falls back to
the type's default count (0 for PERSON, EMAIL, ADDRESS, CREDENTIAL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from guardline.errors import InvalidOperatorConfig
from guardline.pii.entities import EntityType
from guardline.pii.operators._text import (
    CN_DIGITS,
    COMPOUND_SURNAMES,
    is_cjk,
    is_significant,
    phone_country_prefix,
)
from guardline.pii.operators.base import OperatorState, check_int, check_keys, get_int, get_str

CREDENTIAL_MASK_LENGTH = 6
EMAIL_LOCAL_MASK_LENGTH = 3
_MAX_KEEP = 64

_DEFAULT_COUNTS: dict[EntityType, tuple[int, int]] = {
    EntityType.PHONE: (3, 4),
    EntityType.ID_CARD: (3, 4),
    EntityType.BANK_CARD: (0, 4),
    EntityType.US_SSN: (0, 4),
    EntityType.PASSPORT: (1, 2),
    EntityType.TRAVEL_PERMIT: (1, 2),
    EntityType.LICENSE_PLATE: (2, 2),
    # Styled types: these counts apply only when one explicit keep count is given.
    EntityType.PERSON: (0, 0),
    EntityType.EMAIL: (0, 0),
    EntityType.ADDRESS: (0, 0),
}

# One administrative name: ideographs that are neither street-level words nor level suffixes, so a
# lazy match stops at the first suffix and never swallows 科技园路 or 望京市场.
_N = r"(?:(?![路街道巷弄号村镇乡栋楼室单元省市区县旗盟])[\u4e00-\u9fff])"
_PROVINCE = rf"(?:{_N}{{2,6}}?(?:省|自治区|特别行政区)|(?:北京|上海|天津|重庆)市?|香港|澳门)"
_CITY = rf"(?:{_N}{{1,6}}?(?:自治州|地区|市|盟))"
_COUNTY = rf"(?:{_N}{{1,5}}?(?:自治县|自治旗|区|县|市|旗))"
_ADMIN_PREFIX = re.compile(rf"\s*(?:{_PROVINCE})?\s*(?:{_CITY})?\s*(?:{_COUNTY})?")


def _fit(n: int, first: int, last: int, min_masked: int) -> tuple[int, int]:
    """Shrink keep counts (the larger first) until at least ``min_masked`` of ``n`` are masked."""
    budget = max(0, n - min_masked)
    while first + last > budget:
        if last >= first:
            last -= 1
        else:
            first -= 1
    return first, last


def _mask_range(value: str, first: int, last: int, mask_char: str, *, min_masked: int) -> str:
    n = sum(1 for ch in value if is_significant(ch))
    first, last = _fit(n, first, last, min(n, min_masked))
    out: list[str] = []
    i = 0
    for ch in value:
        if is_significant(ch):
            out.append(ch if i < first or i >= n - last else mask_char)
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def _default_min(n: int) -> int:
    return max(1, -(-n // 3))


def _mask_person(value: str, mask_char: str) -> str:
    if any(is_cjk(ch) for ch in value):
        sig = [ch for ch in value if is_significant(ch)]
        keep = 2 if "".join(sig[:2]) in COMPOUND_SURNAMES else 1
        return _mask_range(value, keep, 0, mask_char, min_masked=_default_min(len(sig)))
    out: list[str] = []
    seen_in_word = False
    for ch in value:
        if ch.isspace():
            seen_in_word = False
            out.append(ch)
        elif is_significant(ch):
            out.append(mask_char if seen_in_word else ch)
            seen_in_word = True
        else:
            out.append(ch)
    return "".join(out)


def _mask_email(value: str, mask_char: str) -> str:
    local, at, domain = value.rpartition("@")
    stripped = local.strip()
    if not at or not stripped:
        return _mask_range(value, 1, 0, mask_char, min_masked=_default_min(len(value)))
    lead = local[: len(local) - len(local.lstrip())]
    return f"{lead}{stripped[0]}{mask_char * EMAIL_LOCAL_MASK_LENGTH}@{domain}"


def _mask_address(value: str, mask_char: str) -> str:
    match = _ADMIN_PREFIX.match(value)
    keep = sum(1 for ch in value[: match.end()] if is_significant(ch)) if match else 0
    n = sum(1 for ch in value if is_significant(ch))
    # The prefix identifies no one, so keep all of it when anything follows; a bare prefix is
    # shortened like any other default.
    return _mask_range(value, keep, 0, mask_char, min_masked=1 if keep < n else _default_min(n))


def _mask_credential(value: str, first: int, last: int, mask_char: str) -> str:
    chars = value.strip()
    first, last = _fit(len(chars), first, last, min(len(chars), 1))
    return chars[:first] + mask_char * CREDENTIAL_MASK_LENGTH + chars[len(chars) - last :]


def _ip_first_group(value: str) -> int:
    count = 0
    for ch in value:
        if not is_significant(ch):
            if count:
                break
            continue
        count += 1
    return count


class MaskOperator:
    """Replace significant characters with ``mask_char``, keeping a type-dependent head and tail."""

    name = "mask"
    _allowed = frozenset({"keep_first", "keep_last", "mask_char"})

    def validate(self, params: Mapping[str, object]) -> None:
        check_keys(self.name, params, self._allowed)
        check_int(self.name, params, "keep_first", minimum=0, maximum=_MAX_KEEP)
        check_int(self.name, params, "keep_last", minimum=0, maximum=_MAX_KEEP)
        if "mask_char" in params:
            char = params["mask_char"]
            if (
                not isinstance(char, str)
                or len(char) != 1
                or is_significant(char)
                or char in CN_DIGITS
                or not char.isprintable()
                or char.isspace()
            ):
                raise InvalidOperatorConfig(
                    f"{self.name}: mask_char must be one printable symbol that is not a letter, "
                    "digit or space, such as * or #"
                )

    def operate(
        self,
        value: str,
        *,
        entity_type: EntityType,
        params: Mapping[str, object],
        state: OperatorState,  # noqa: ARG002 - part of the operator contract
    ) -> str:
        mask_char = get_str(params, "mask_char", "*")
        explicit = "keep_first" in params or "keep_last" in params
        if entity_type is EntityType.CREDENTIAL:
            first, last = get_int(params, "keep_first", 0), get_int(params, "keep_last", 0)
            return _mask_credential(value, first, last, mask_char)
        if not explicit:
            if entity_type is EntityType.PERSON:
                result = _mask_person(value, mask_char)
            elif entity_type is EntityType.EMAIL:
                result = _mask_email(value, mask_char)
            elif entity_type is EntityType.ADDRESS:
                result = _mask_address(value, mask_char)
            else:
                first, last = self._default_counts(value, entity_type)
                # A country code is not part of the number's secret: size the minimum without it.
                n = sum(1 for ch in value if is_significant(ch))
                if entity_type is EntityType.PHONE:
                    n -= phone_country_prefix(value)
                result = _mask_range(value, first, last, mask_char, min_masked=_default_min(n))
        else:
            default_first, default_last = self._default_counts(value, entity_type)
            first = get_int(params, "keep_first", default_first)
            last = get_int(params, "keep_last", default_last)
            result = _mask_range(value, first, last, mask_char, min_masked=1)
        if result == value:  # nothing was masked (a name of one-letter words): mask everything
            result = _mask_range(value, 0, 0, mask_char, min_masked=0)
        return result

    @staticmethod
    def _default_counts(value: str, entity_type: EntityType) -> tuple[int, int]:
        if entity_type is EntityType.PHONE:
            return 3 + phone_country_prefix(value), 4
        if entity_type is EntityType.IP_ADDRESS:
            return _ip_first_group(value), 0
        return _DEFAULT_COUNTS.get(entity_type, (0, 2))
