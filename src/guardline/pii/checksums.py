"""Check digits and validity rules: GB 11643 resident IDs, Luhn, US SSN, calendar dates."""

from __future__ import annotations

import datetime as dt

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 province-level codes (first two digits of a resident ID).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 "
    "71 81 82 83".split()
)


def gb11643_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def gb11643_valid(number: str) -> bool:
    """True for an 18-character ID whose ISO 7064 mod 11-2 check character matches."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return gb11643_check_char(number[:17]) == number[17].upper()


def valid_date(yyyymmdd: str, *, earliest: int = 1900, latest: int | None = None) -> bool:
    if len(yyyymmdd) != 8 or not yyyymmdd.isdigit():
        return False
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    if year < earliest or year > (latest or dt.date.today().year):
        return False
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def id_region_valid(number: str) -> bool:
    """Province code known and the city/county parts not zero where a real code never is."""
    return (number[:2] in PROVINCE_CODES and number[4:6] != "00") or number[:2] in {"71", "81", "82", "83"}


def resident_id_shape(number: str) -> bool:
    """Region and birth date of an 18-digit (YYYYMMDD) or 15-digit legacy (YYMMDD) ID are valid."""
    if len(number) == 18:
        return id_region_valid(number) and valid_date(number[6:14])
    if len(number) == 15 and number.isdigit():
        return id_region_valid(number) and valid_date("19" + number[6:12])
    return False


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def ssn_valid(number: str) -> bool:
    """US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    if len(number) != 9 or not number.isdigit():
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"
