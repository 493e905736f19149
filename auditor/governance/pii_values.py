"""Content validators for PII, run on the distinct values of a column sample.

Each distinct value gets at most one kind: the first of :data:`CONTENT_KINDS` whose validator
accepts it (e-mail, IBAN, IP address, SSN, payment card, date of birth, phone), so a value is
never counted twice. Values with no digit, ``@`` or ``:`` are skipped outright. Each kind first
selects the values of its shape with one vectorised pattern over all distinct values, then runs
its validator (:mod:`auditor.governance.pii_checks`) on those only:

- **email**: ``local@domain.tld`` with a dot-atom local part of at most 64 characters, domain
  labels of 1-63 letters/digits/hyphens (not starting or ending with a hyphen), at least two
  labels, an alphabetic TLD of 2-63 letters (or ``xn--`` punycode), at most 254 characters.
- **iban**: two letters, two digits, 11-30 letters/digits (spaces ignored), then
  ``stdnum.iban.is_valid`` (ISO 7064 mod-97 check digits, the country's length and BBAN format).
- **ip_address**: dotted-quad or colon-hex text accepted by ``ipaddress.ip_address`` (IPv4 or
  IPv6, private and loopback included). Bare integers are never IP addresses.
- **us_ssn**: ``123-45-6789`` (or space separated) valid by ``stdnum.us.ssn``'s rules: area
  not 000, 666 or 900-999, group not 00, serial not 0000, and not one of the published invalid
  numbers 078-05-1120, 457-55-5462, 219-09-9999. Undashed 9-digit values count only when the
  column *name* suggests an SSN (9-digit ids are common); integer columns so named get their
  leading zeros back.
- **payment_card**: 13-19 digits, optionally grouped by spaces or dashes, with a known issuer
  prefix and length (Visa 4; Mastercard 51-55, 2221-2720; Amex 34, 37; Discover 6011, 644-649,
  65, 622126-622925; JCB 3528-3589; Diners 300-305, 3095, 36, 38-39; UnionPay 62; Mir
  2200-2204; Maestro 50, 56-58, 639, 67) and a valid Luhn check digit (the same answer as
  ``stdnum.luhn.is_valid``, computed on arrays). About 3-4% of random 16-digit ids pass, below
  the default ``min_share`` of 5%.
- **date_of_birth**: a date (``YYYY-MM-DD``, ``YYYY/MM/DD`` or ``YYYY.MM.DD``, optionally with a
  time; ``DD/MM/YYYY`` or ``MM/DD/YYYY`` with ``/ . -``, valid under either reading;
  ``12 Mar 1985``, ``March 12, 1985``) between 120 years before ``today`` and ``today``.
  Two-digit years are not read. Bare ``YYYYMMDD`` and ``YYYY`` count only when the column name
  suggests a birth date.
- **phone**: 7-15 digits written with a leading ``+`` or with separators (spaces, dashes, dots,
  parentheses), parsed by ``phonenumbers.parse`` with ``region`` as the default region for
  national numbers and accepted by ``phonenumbers.is_valid_number``. Bare digit strings and
  integers count only when the column name suggests a phone, so values like 40, 1169 or
  10-digit ids never match by content alone.

IBAN and phone validation cost tens to hundreds of microseconds a value. When a column has more
than ``cap`` distinct values of IBAN (or phone) shape, only those occurring in a seeded random
subset of the sample's rows are validated for that kind, and the kind is reported *limited*:
its share is then measured on that row subset (see :mod:`auditor.governance.pii`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.governance.pii_checks import (
    Mask,
    birth_ages,
    card_valid,
    iban_valid,
    ip_valid,
    phone_valid,
    ssn_valid,
)

CONTENT_KINDS = (
    "email",
    "iban",
    "ip_address",
    "us_ssn",
    "payment_card",
    "date_of_birth",
    "phone",
)
SLOW_KINDS = frozenset({"iban", "phone"})
UNCHECKED = "(unchecked)"

# Shape patterns: the same meaning under Python's re and RE2 (pyarrow), so pandas can run them
# vectorised on arrow strings. Only ASCII digits count.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SHAPES = {
    "email": rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})",
    "iban": r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}",
    "ip_address": r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
    r"|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,8}(?:%[A-Za-z0-9_.-]+)?",
    "us_ssn": r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}",
    "payment_card": r"[0-9]{4}(?:[ -]?[0-9]{1,7}){1,5}",
    "date_of_birth": r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}(?:[T ].*)?"
    r"|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4}"
    r"|[0-9]{1,2}[ -][A-Za-z]{3,9}\.?[ -],? ?[0-9]{4}"
    r"|[A-Za-z]{3,9}\.? [0-9]{1,2},? [0-9]{4}",
    "phone": r"\+?[0-9(][0-9() .-]{5,22}[0-9]",
}
# Extra shapes accepted only when the column name suggests the kind.
_NAMED_SHAPES = {"us_ssn": r"[0-9]{9}", "date_of_birth": r"[0-9]{8}|[0-9]{4}", "phone": ""}


@dataclass(frozen=True)
class Context:
    """What a validator may depend on besides the value."""

    name_kinds: frozenset[str]
    region: str
    today: date


@dataclass(frozen=True)
class Classified:
    """Per distinct value: its kind (None, a kind, or UNCHECKED) and implied age if a DOB."""

    labels: npt.NDArray[np.object_]
    ages: npt.NDArray[np.float64]
    limited: frozenset[str]


def _fullmatch(values: pd.Series, pattern: str) -> Mask:
    return np.array(values.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False))


def _shape(kind: str, text: pd.Series, ctx: Context) -> Mask:
    pattern = _SHAPES[kind]
    if kind in ctx.name_kinds and _NAMED_SHAPES.get(kind):
        pattern += "|" + _NAMED_SHAPES[kind]
    shaped = _fullmatch(text, pattern)
    if kind == "email":
        lengths = text.str.len().to_numpy(dtype=np.int64, na_value=0)
        local = text.str.find("@").to_numpy(dtype=np.int64, na_value=0)
        shaped &= (lengths <= 254) & (local <= 64)
    elif kind == "phone":
        digits = text.str.replace(r"[^0-9]", "", regex=True)
        count = digits.str.len().to_numpy(dtype=np.int64, na_value=0)
        shaped &= (count >= 7) & (count <= 15)
        if "phone" not in ctx.name_kinds:
            shaped &= (digits != text).to_numpy(dtype=bool, na_value=False)
    return shaped


def _validate(kind: str, values: list[str], ctx: Context) -> Mask | npt.NDArray[np.float64]:
    """Accepted values (or implied ages, NaN for none, for dates of birth).

    SSNs and cards arrive as their digits only.
    """
    if kind == "email":
        return np.ones(len(values), dtype=bool)
    if kind == "date_of_birth":
        return birth_ages(values, ctx.today, bare=kind in ctx.name_kinds)
    if kind == "us_ssn":
        return ssn_valid(values)
    if kind == "payment_card":
        return card_valid(values)
    check: Callable[[str], bool] = iban_valid
    if kind == "ip_address":
        check = ip_valid
    elif kind == "phone":
        check = partial(phone_valid, region=ctx.region)
    return np.fromiter(map(check, values), dtype=bool, count=len(values))


def classify(
    values: pd.Series | Sequence[str],
    ctx: Context,
    kinds: Sequence[str] = CONTENT_KINDS,
    *,
    subset: Mask | None = None,
    cap: int = 0,
) -> Classified:
    """The kind of each distinct stripped text value, tried in ``kinds`` order.

    ``subset`` marks the values occurring in the row subset the slow kinds fall back to when
    more than ``cap`` distinct values have their shape; the others get :data:`UNCHECKED`.
    """
    text = pd.Series(values, dtype="str").reset_index(drop=True)
    labels = np.full(len(text), None, dtype=object)
    ages = np.full(len(text), np.nan)
    open_ = _fullmatch(text, r".*[0-9@:].*")
    limited = set()
    for kind in kinds:
        if not open_.any():
            break
        source = text.str.replace(" ", "").str.upper() if kind == "iban" else text
        rows = np.flatnonzero(open_ & _shape(kind, source, ctx))
        if kind in ("us_ssn", "payment_card"):
            source = text.str.replace(r"[ -]", "", regex=True)
        if kind in SLOW_KINDS and subset is not None and len(rows) > cap:
            labels[rows[~subset[rows]]] = UNCHECKED
            open_[rows[~subset[rows]]] = False
            rows = rows[subset[rows]]
            limited.add(kind)
        found = _validate(kind, source.iloc[rows].tolist(), ctx)
        if kind == "date_of_birth":
            ages[rows] = found
            found = ~np.isnan(found)
        labels[rows[found.astype(bool)]] = kind
        open_[rows[found.astype(bool)]] = False
    return Classified(labels, ages, frozenset(limited))
