"""The validators behind the PII content scan, on values already of the right shape.

Luhn, issuer prefixes and SSN ranges are computed on whole arrays of digit strings with
numpy (the tests check them against ``stdnum.luhn`` and ``stdnum.us.ssn`` value by value);
IBANs, phone numbers, IP addresses and dates go through ``stdnum.iban``, ``phonenumbers``,
``ipaddress`` and ``datetime`` one distinct value at a time.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import phonenumbers
from stdnum import iban as _iban

Mask = npt.NDArray[np.bool_]

# (lowest prefix, highest prefix, allowed lengths) per card issuer range.
IIN_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = tuple(
    (lo, hi, frozenset(lengths))
    for lo, hi, lengths in (
        ("4", "4", (13, 16, 19)),  # Visa
        ("51", "55", (16,)),  # Mastercard
        ("2221", "2720", (16,)),  # Mastercard
        ("34", "34", (15,)),  # American Express
        ("37", "37", (15,)),  # American Express
        ("6011", "6011", range(16, 20)),  # Discover
        ("644", "649", range(16, 20)),  # Discover
        ("65", "65", range(16, 20)),  # Discover
        ("622126", "622925", range(16, 20)),  # Discover / UnionPay co-brand
        ("3528", "3589", range(16, 20)),  # JCB
        ("300", "305", range(14, 20)),  # Diners Club
        ("3095", "3095", range(14, 20)),  # Diners Club
        ("36", "36", range(14, 20)),  # Diners Club
        ("38", "39", range(14, 20)),  # Diners Club
        ("62", "62", range(16, 20)),  # UnionPay
        ("2200", "2204", range(16, 20)),  # Mir
        ("50", "50", range(13, 20)),  # Maestro
        ("56", "58", range(13, 20)),  # Maestro
        ("639", "639", range(13, 20)),  # Maestro
        ("67", "67", range(13, 20)),  # Maestro
    )
)
# stdnum.us.ssn's list of numbers that were published and are not valid.
SSN_BLACKLIST = frozenset({"078051120", "457555462", "219099999"})

_ISO_DATE = re.compile(
    r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})"
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_NUMERIC_DATE = re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]{4})")
_DAY_MONTH = re.compile(r"([0-9]{1,2})[ -]([A-Za-z]{3,9})\.?[ -],? ?([0-9]{4})")
_MONTH_DAY = re.compile(r"([A-Za-z]{3,9})\.? ([0-9]{1,2}),? ([0-9]{4})")
_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_YEAR = re.compile(r"[0-9]{4}")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DAYS_PER_YEAR = 365.2425


def _digit_matrix(digits: Sequence[str], length: int) -> npt.NDArray[np.int64]:
    raw = np.frombuffer("".join(digits).encode("ascii"), dtype=np.uint8)
    return raw.reshape(len(digits), length).astype(np.int64) - ord("0")


def _by_length(digits: Sequence[str]) -> list[tuple[npt.NDArray[np.intp], int]]:
    lengths = np.fromiter(map(len, digits), dtype=np.intp, count=len(digits))
    return [(np.flatnonzero(lengths == n), int(n)) for n in np.unique(lengths)]


def _number(matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each row of single digits as one integer."""
    return matrix @ (10 ** np.arange(matrix.shape[1] - 1, -1, -1, dtype=np.int64))


def luhn_valid(digits: Sequence[str]) -> Mask:
    """Which ASCII digit strings end in a valid Luhn (mod 10) check digit."""
    out = np.zeros(len(digits), dtype=bool)
    for rows, length in _by_length(digits):
        if length == 0:
            continue
        reverse = _digit_matrix([digits[i] for i in rows], length)[:, ::-1]
        doubled = reverse[:, 1::2] * 2
        total = reverse[:, ::2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
        out[rows] = total % 10 == 0
    return out


def card_valid(digits: Sequence[str]) -> Mask:
    """Which digit strings are payment card numbers: 13-19 digits, known issuer, Luhn."""
    out = np.zeros(len(digits), dtype=bool)
    for rows, length in _by_length(digits):
        if not 13 <= length <= 19:
            continue
        matrix = _digit_matrix([digits[i] for i in rows], length)
        issued = np.zeros(len(rows), dtype=bool)
        for lo, hi, lengths in IIN_RANGES:
            if length in lengths:
                prefix = _number(matrix[:, : len(lo)])
                issued |= (prefix >= int(lo)) & (prefix <= int(hi))
        out[rows] = issued
    return out & luhn_valid(digits)


def ssn_valid(digits: Sequence[str]) -> Mask:
    """Which 9-digit strings are valid US SSNs, by ``stdnum.us.ssn``'s rules."""
    out = np.zeros(len(digits), dtype=bool)
    for rows, length in _by_length(digits):
        if length != 9:
            continue
        matrix = _digit_matrix([digits[i] for i in rows], length)
        area, group, serial = (_number(matrix[:, a:b]) for a, b in ((0, 3), (3, 5), (5, 9)))
        listed = np.fromiter((digits[i] in SSN_BLACKLIST for i in rows), dtype=bool)
        ok = (area != 0) & (area != 666) & (area < 900) & (group != 0) & (serial != 0)
        out[rows] = ok & ~listed
    return out


def iban_valid(compact: str) -> bool:
    """``stdnum.iban.is_valid`` on an upper-case IBAN without spaces."""
    return bool(_iban.is_valid(compact))


def ip_valid(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def phone_valid(value: str, region: str) -> bool:
    """``phonenumbers`` parses the value (national numbers as ``region``'s) as a valid number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month(name: str) -> int:
    name = name.lower()
    if len(name) < 3:
        return 0
    return next((i for i, full in enumerate(_MONTHS, start=1) if full.startswith(name)), 0)


def parse_date(value: str, *, bare: bool) -> date | None:
    """The date ``value`` spells in a supported format (bare YYYYMMDD/YYYY when ``bare``)."""
    if m := _ISO_DATE.fullmatch(value):
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC_DATE.fullmatch(value):
        a, b, year = int(m[1]), int(m[3]), int(m[4])
        return _make_date(year, a, b) or _make_date(year, b, a)
    if m := _DAY_MONTH.fullmatch(value):
        return _make_date(int(m[3]), _month(m[2]), int(m[1]))
    if m := _MONTH_DAY.fullmatch(value):
        return _make_date(int(m[3]), _month(m[1]), int(m[2]))
    if bare and (m := _COMPACT_DATE.fullmatch(value)):
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    if bare and _YEAR.fullmatch(value):
        return _make_date(int(value), 7, 1)
    return None


def earliest_birth(today: date) -> date:
    """120 years before ``today`` (28 February when today is 29 February)."""
    day = min(today.day, 28) if today.month == 2 else today.day
    return date(today.year - 120, today.month, day)


def birth_ages(values: Sequence[str], today: date, *, bare: bool) -> npt.NDArray[np.float64]:
    """The age in years each value implies as a birth date; NaN when it cannot be one."""
    earliest = earliest_birth(today)
    ages = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        born = parse_date(value, bare=bare)
        if born is not None and earliest <= born <= today:
            ages[i] = (today - born).days / _DAYS_PER_YEAR
    return ages
