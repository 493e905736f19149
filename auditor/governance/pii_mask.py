"""Masked examples of PII values: enough shape to recognise the kind, never the value.

Scheme (stars are fixed-width, so a mask does not even leak the value's length):

==============  ====================================  ==========================================
kind            example value                         mask
==============  ====================================  ==========================================
email           john.doe@example.com                  j***@e***.com  (first character of the
                                                      local part and domain, and the TLD)
phone           +1 202-555-0143                       +*** *** **43  (last 2 digits; "+" kept
                                                      when the number was international)
us_ssn          123-45-6789                           ***-**-**89  (last 2 digits)
payment_card    4111 1111 1111 1111                   **** **** **** 1111  (last 4, as PCI DSS
                                                      allows for display)
iban            GB82 WEST 1234 5698 7654 32           GB** **** **** **** **32  (country and
                                                      last 2)
ip_address      192.168.10.20 / 2001:db8::1           192.***.***.*** / 2001:****:****:****
                                                      (first octet / first group)
date_of_birth   1985-03-12                            19**-**-**  (century only)
person_name,    Jane Q. Public / 12 Main Street       J*** Q*** P*** / 1*** M*** S***  (first
address, other                                        character of at most 3 words)
==============  ====================================  ==========================================

As a last guard, a mask that still contains the raw value, or any run of 5 or more of its
letters and digits (separators ignored on both sides), is replaced by ``***``.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")
_WORD = re.compile(r"\S+")
_ALNUM = re.compile(r"[\W_]+")
_FULL = "***"


def _digits(value: str) -> str:
    return "".join(_DIGITS.findall(value))


def _email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    if not local or len(labels) < 2:
        return _FULL
    return f"{local[0]}***@{labels[0][:1]}***.{labels[-1]}"


def _ip(value: str) -> str:
    if ":" in value:
        return value.split(":")[0] + ":****:****:****"
    return value.split(".")[0] + ".***.***.***"


def _date(value: str) -> str:
    year = re.search(r"(?<!\d)(1[89]|20)\d\d(?!\d)", value)
    return (year.group(1) if year else "**") + "**-**-**"


def _words(value: str) -> str:
    words = _WORD.findall(value)[:3]
    return " ".join(w[0] + "***" for w in words) if words else _FULL


def _leaks(value: str, masked: str) -> bool:
    """True when the mask shows the raw value or 5+ consecutive letters/digits of it.

    Both sides are compared on their letters and digits only, so separators or stars in
    between do not hide a leak.
    """
    raw = _ALNUM.sub("", value).lower()
    text = _ALNUM.sub("", masked).lower()
    if raw and raw in text:
        return True
    return any(raw[i : i + 5] in text for i in range(len(raw) - 4))


def mask(kind: str, value: object) -> str:
    """A masked rendering of ``value`` as PII of ``kind`` (see the module docstring)."""
    text = str(value).strip()
    digits = _digits(text)
    if kind == "email":
        masked = _email(text)
    elif kind == "phone":
        masked = ("+" if text.startswith("+") else "") + "*** *** **" + digits[-2:]
    elif kind == "us_ssn":
        masked = "***-**-**" + digits[-2:]
    elif kind == "payment_card":
        masked = "**** **** **** " + digits[-4:]
    elif kind == "iban":
        compact = re.sub(r"\s", "", text).upper()
        masked = f"{compact[:2]}** **** **** **** **{compact[-2:]}"
    elif kind == "ip_address":
        masked = _ip(text)
    elif kind == "date_of_birth":
        masked = _date(text)
    else:
        masked = _words(text)
    return _FULL if _leaks(text, masked) else masked
