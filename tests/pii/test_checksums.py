"""Tests for check digits and validity rules: GB 11643 resident IDs, Luhn, US SSN, calendar dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardline.pii.checksums import (
    gb11643_check_char,
    gb11643_valid,
    id_region_valid,
    luhn_valid,
    resident_id_shape,
    ssn_valid,
    valid_date,
)
from tests.pii.cases import id_check_char, luhn_check_digit

# --- GB 11643 -----------------------------------------------------------------------------------

# Worked by hand with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 and "10X98765432":
#   11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 % 11 = 2  -> "X"
#   11010519880312123: 7+9+0+5+0+20+2+9+48+24+0+27+10+10+8+8+6 = 193; 193 % 11 = 6 -> "6"
#   44030819990101123: 28+36+0+15+0+32+2+9+54+27+0+9+0+5+8+8+6 = 239; 239 % 11 = 8 -> "4"
#   10000000000000000: 7 % 11 = 7                                                    -> "5"
#   00000000000000000: 0                                                             -> "1"
#   00000000000000005: 5*2 = 10 % 11 = 10                                            -> "2"
#   00000000000000050: 5*4 = 20 % 11 = 9                                             -> "3"
#   00000000000000004: 4*2 = 8                                                       -> "4"
#   00000000000000100: 1*8 = 8 (same remainder, another position)                     -> "4"
#   00000000000000001: 1*2 = 2                                                       -> "X"
#   00000000000000090: 9*4 = 36 % 11 = 3                                             -> "9"
#   00000000000000020: 2*4 = 8                                                       -> "4"
#   00000000000000006: 6*2 = 12 % 11 = 1                                             -> "0"
GB11643_VECTORS = [
    ("11010519491231002", "X"),
    ("11010519880312123", "6"),
    ("44030819990101123", "4"),
    ("10000000000000000", "5"),
    ("00000000000000000", "1"),
    ("00000000000000005", "2"),
    ("00000000000000050", "3"),
    ("00000000000000004", "4"),
    ("00000000000000100", "4"),
    ("00000000000000001", "X"),
    ("00000000000000090", "9"),
    ("00000000000000020", "4"),
    ("00000000000000006", "0"),
]


@pytest.mark.parametrize(("first17", "check"), GB11643_VECTORS)
def test_gb11643_check_char_hand_vectors(first17: str, check: str) -> None:
    assert gb11643_check_char(first17) == check
    assert id_check_char(first17) == check  # the test helper agrees with the hand arithmetic


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        "11010519491231002x",  # lower-case check character is the same ID
        "110105198803121236",
        "440308199901011234",
    ],
)
def test_gb11643_valid(number: str) -> None:
    assert gb11643_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # X expected
        "110105198803121235",  # 6 expected
        "11010519880312123X",
        "11010519880312123",  # 17 characters
        "1101051988031212366",  # 19 characters
        "",
        "11010519880312123A",
        "X10105198803121236",  # a letter among the first 17
        "１１０１０５１９８８０３１２１２３６",  # full-width digits are not normalized here
    ],
)
def test_gb11643_invalid(number: str) -> None:
    assert not gb11643_valid(number)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_gb11643_exactly_one_check_char_fits(first17: str) -> None:
    right = gb11643_check_char(first17)
    assert right == id_check_char(first17)
    for candidate in "0123456789X":
        assert gb11643_valid(first17 + candidate) is (candidate == right)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 9))
def test_gb11643_detects_any_single_digit_change(first17: str, position: int, delta: int) -> None:
    number = first17 + gb11643_check_char(first17)
    changed = str((int(number[position]) + delta) % 10)
    assert not gb11643_valid(number[:position] + changed + number[position + 1 :])


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("110105198803121236", True),  # Beijing Chaoyang, 1988-03-12
        ("440308199901011234", True),
        ("110105880312123", True),  # 15-digit legacy: 19YYMMDD
        ("990105198803121236", False),  # no province 99
        ("110100198803121236", False),  # county part 00 in the mainland
        ("110105198802301236", False),  # 30 February
        ("110105189912311236", False),  # before 1900
        ("110105881312123", False),  # legacy with month 13
        ("1101051988031212", False),  # 16 digits
    ],
)
def test_resident_id_shape(number: str, expected: bool) -> None:
    assert resident_id_shape(number) is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [("110105", True), ("330106", True), ("810000", True), ("710000", True), ("000000", False)],
)
def test_id_region_valid(number: str, expected: bool) -> None:
    assert id_region_valid(number) is expected


# --- Luhn ---------------------------------------------------------------------------------------

LUHN_VALID = [
    "4111111111111111",  # Visa test card
    "5500000000000004",  # Mastercard test card
    "378282246310005",  # Amex test card
    "6222021234567890128",  # 19-digit UnionPay-prefixed number (checked by hand: sum 80)
    "4012888888881881",  # Visa test card
    "6011111111111117",  # Discover test card
    "3530111333300000",  # JCB test card
    "79927398713",  # the textbook example
    "00",
    "18",
]
LUHN_INVALID = [
    "4111111111111112",
    "5500000000000005",
    "378282246310006",
    "6222021234567890127",
    "79927398710",
    "1234567812345678",
    "0",  # too short to carry a check digit
    "",
    "4111 1111 1111 1111",  # separators are the caller's job
    "411111111111111a",
]


@pytest.mark.parametrize("number", LUHN_VALID)
def test_luhn_valid(number: str) -> None:
    assert luhn_valid(number)
    assert luhn_check_digit(number[:-1]) == number[-1]


@pytest.mark.parametrize("number", LUHN_INVALID)
def test_luhn_invalid(number: str) -> None:
    assert not luhn_valid(number)


@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_luhn_completed_payload_is_valid(payload: str) -> None:
    assert luhn_valid(payload + luhn_check_digit(payload))


@given(st.text(alphabet="0123456789", min_size=12, max_size=18), st.data())
def test_luhn_detects_any_single_digit_change(payload: str, data: st.DataObject) -> None:
    number = payload + luhn_check_digit(payload)
    position = data.draw(st.integers(0, len(number) - 1))
    delta = data.draw(st.integers(1, 9))
    changed = str((int(number[position]) + delta) % 10)
    assert not luhn_valid(number[:position] + changed + number[position + 1 :])


# --- US SSN -------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["123456789", "001010001", "665999999", "667010001", "899999999"])
def test_ssn_valid(number: str) -> None:
    assert ssn_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "000123456",  # area 000
        "666123456",  # area 666
        "900123456",  # 9xx areas are never issued
        "999999999",
        "987654321",
        "123006789",  # group 00
        "123450000",  # serial 0000
        "12345678",  # 8 digits
        "1234567890",
        "123-45-6789",  # separators are the caller's job
        "12345678a",
        "",
    ],
)
def test_ssn_invalid(number: str) -> None:
    assert not ssn_valid(number)


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20000229", True),  # divisible by 400: leap
        ("20240229", True),
        ("19960229", True),
        ("19000229", False),  # divisible by 100, not 400: not leap
        ("20230229", False),
        ("21000229", False),
        ("20240230", False),
        ("20240431", False),
        ("20241301", False),
        ("20240001", False),
        ("20240100", False),
        ("19000101", True),  # the default earliest year is allowed
        ("18991231", False),
        ("2024022", False),
        ("202402290", False),
        ("2024-2-9", False),
        ("", False),
    ],
)
def test_valid_date(value: str, expected: bool) -> None:
    assert valid_date(value) is expected


def test_valid_date_future_years_refused() -> None:
    this_year = dt.date.today().year
    assert valid_date(f"{this_year}0101")
    assert not valid_date(f"{this_year + 1}0101")
    assert not valid_date("99991231")


def test_valid_date_bounds_are_parameters() -> None:
    assert valid_date("18500101", earliest=1800)
    assert not valid_date("19490101", earliest=1950)
    assert valid_date("20300101", latest=2030)
    assert not valid_date("20310101", latest=2030)
