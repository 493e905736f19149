"""PII scan: name vocabulary, validated content, exact shares, masking and real data sets.

Planted values are checked against the validators they claim to use (stdnum, phonenumbers);
Adult and German credit must come out clean except German's ``telephone`` yes/no flag, which
is reported by name with a share of 0.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.us import ssn as std_ssn

from auditor.errors import UsageError
from auditor.governance.pii import PiiColumn, mask, scan_pii
from auditor.governance.pii_checks import card_valid, luhn_valid, ssn_valid
from auditor.governance.pii_names import kinds_from_name, name_tokens

ROOT = Path(__file__).resolve().parents[2]
ADULT_CSV = ROOT / "tests" / "data" / "adult.csv"
GERMAN_CSV = ROOT / "sample_models" / "data" / "german_credit.csv"
TODAY = date(2025, 6, 1)

VALID_CARDS = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"]
INVALID_CARDS = ["4111111111111112", "1234567812345670", "9111111111111110"]  # Luhn / Luhn+no IIN
VALID_SSNS = ["123-45-6789", "012-34-5678", "665-12-3456"]
INVALID_SSNS = ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-6789", "123-45-0000"]
VALID_IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"]
INVALID_IBANS = ["GB82 WEST 1234 5698 7654 33", "DE89370400440532013001"]
EMAILS = ["john.doe@example.com", "a.b+tag@mail.example.co.uk"]
NOT_EMAILS = ["john@", "@example.com", "john@example", "jo..hn@example.com", "john@-ex.com"]
PHONES = ["+1 202-555-0143", "(202) 456-1111", "+44 20 7946 0958", "+33 1 42 68 53 00"]
IPS = ["192.168.10.20", "8.8.8.8", "2001:db8::1", "fe80::1ff:fe23:4567:890a"]
NOT_IPS = ["999.1.1.1", "1.2.3", "10:30:00", "00:1A:2B:3C:4D:5E"]
DOBS = ["1985-03-12", "12/31/1970", "31.12.1960", "12 Mar 1990", "March 12, 1975"]
ALL_PII = VALID_CARDS + VALID_SSNS + VALID_IBANS + EMAILS + PHONES + IPS + DOBS


def _column(values: list[str], n: int, fill: str = "n/a") -> list[str]:
    """``values`` then ``fill`` up to ``n`` rows."""
    return (values + [fill] * n)[:n]


def _one(frame: pd.DataFrame, **kwargs: object) -> dict[tuple[str, str], PiiColumn]:
    found = scan_pii(frame, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return {(f.column, f.kind): f for f in found}


# --- the planted values are what the validators say they are --------------------------------


def test_planted_values_agree_with_the_reference_validators() -> None:
    assert all(std_luhn.is_valid(c) for c in VALID_CARDS)
    assert not std_luhn.is_valid("4111111111111112")
    assert std_luhn.is_valid("1234567812345670")  # Luhn-valid, but no issuer starts with 12
    assert all(std_ssn.is_valid(s) for s in VALID_SSNS)
    assert not any(std_ssn.is_valid(s) for s in [*INVALID_SSNS, "078-05-1120"])
    assert all(std_iban.is_valid(i) for i in VALID_IBANS)
    assert not any(std_iban.is_valid(i) for i in INVALID_IBANS)
    for p in PHONES:
        assert phonenumbers.is_valid_number(phonenumbers.parse(p, "US"))


def test_vectorised_luhn_and_ssn_agree_with_stdnum() -> None:
    rng = np.random.default_rng(7)
    numbers = [str(x) for x in rng.integers(10**12, 10**18, 3000)]
    numbers += [*VALID_CARDS, *INVALID_CARDS]
    assert luhn_valid(numbers).tolist() == [std_luhn.is_valid(x) for x in numbers]
    ssns = [f"{x:09d}" for x in rng.integers(0, 10**9, 3000)]
    ssns += ["000123456", "666123456", "900123456", "123006789", "123450000", "078051120"]
    ssns += ["457555462", "219099999", "899991234", "001010001"]
    assert ssn_valid(ssns).tolist() == [std_ssn.is_valid(x) for x in ssns]


def test_card_issuer_prefixes_and_lengths() -> None:
    cards = ["4111111111111111", "4222222222222", "1234567812345670", "4111111111111112"]
    assert card_valid(cards).tolist() == [True, True, False, False]
    body = "378282246310000"  # an Amex prefix, but 16 digits: Amex numbers have 15
    amex_as_16 = body + std_luhn.calc_check_digit(body)
    assert std_luhn.is_valid(amex_as_16)
    assert not card_valid([amex_as_16])[0]


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("email", ("email",)),
        ("E-mail", ("email",)),
        ("eMail", ("email",)),
        ("email_address", ("email",)),
        ("phone_number", ("phone",)),
        ("telephone", ("phone",)),
        ("MobilePhone", ("phone",)),
        ("SSN", ("us_ssn",)),
        ("social_security_number", ("us_ssn",)),
        ("name", ("person_name",)),
        ("first_name", ("person_name",)),
        ("LastName", ("person_name",)),
        ("surname", ("person_name",)),
        ("customer_name", ("person_name",)),
        ("username", ("username",)),
        ("user_name", ("username",)),
        ("address", ("address",)),
        ("street_address", ("address",)),
        ("zip", ("address",)),
        ("zipCode", ("address",)),
        ("postal_code", ("address",)),
        ("dob", ("date_of_birth",)),
        ("dateOfBirth", ("date_of_birth",)),
        ("birth_date", ("date_of_birth",)),
        ("birth_year", ("date_of_birth",)),
        ("IPAddress", ("ip_address",)),
        ("client_ip", ("ip_address",)),
        ("iban", ("iban",)),
        ("credit_card_number", ("payment_card",)),
        ("CardNumber", ("payment_card",)),
        ("pan", ("payment_card",)),
    ],
)
def test_names_that_suggest_pii(name: str, kinds: tuple[str, ...]) -> None:
    assert kinds_from_name(name) == kinds


@pytest.mark.parametrize(
    "name",
    [
        "age",
        "sex",
        "race",
        "education-num",
        "marital-status",
        "native-country",
        "filename",
        "file_name",
        "column_name",
        "product_name",
        "hostname",
        "surname_length",
        "has_phone",
        "email_domain",
        "PhoneService",
        "HasCrCard",
        "credit_card_limit",
        "card",
        "birth_weight",
        "place_of_birth",
        "Uniformity of Cell Size",
        "user_id",
        "city",
        "zipper",
        "credit_amount",
        "personal_status",
    ],
)
def test_names_that_do_not(name: str) -> None:
    assert kinds_from_name(name) == ()


def test_tokeniser() -> None:
    assert name_tokens("dateOfBirth") == ("date", "of", "birth")
    assert name_tokens("IPAddress") == ("ip", "address")
    assert name_tokens("address2") == ("address", "2")
    assert name_tokens("education-num") == ("education", "num")


# --- content ---------------------------------------------------------------------------------


def test_each_kind_is_found_by_content_and_invalid_values_are_not() -> None:
    n = 20
    frame = pd.DataFrame(
        {
            "a": _column(VALID_CARDS + INVALID_CARDS, n),
            "b": _column(VALID_SSNS + INVALID_SSNS, n),
            "c": _column(VALID_IBANS + INVALID_IBANS, n),
            "d": _column(EMAILS + NOT_EMAILS, n),
            "e": _column([*PHONES, "40", "1169", "2025550143"], n),
            "f": _column(IPS + NOT_IPS, n),
        }
    )
    found = _one(frame)
    assert found[("a", "payment_card")].matches == len(VALID_CARDS)
    assert found[("b", "us_ssn")].matches == len(VALID_SSNS)
    assert found[("c", "iban")].matches == len(VALID_IBANS)
    assert found[("d", "email")].matches == len(EMAILS)
    assert found[("e", "phone")].matches == len(PHONES)  # bare digits need a phone name
    assert found[("f", "ip_address")].matches == len(IPS)
    assert all(
        f.checked == n and f.share == f.matches / n and not f.by_name for f in found.values()
    )
    assert set(found) == {
        ("a", "payment_card"),
        ("b", "us_ssn"),
        ("c", "iban"),
        ("d", "email"),
        ("e", "phone"),
        ("f", "ip_address"),
    }


def test_formatted_cards_and_share_is_exact() -> None:
    rng = np.random.default_rng(3)
    n = 1000
    valid = rng.permutation(n) < 300
    values = np.where(valid, "4111 1111 1111 1111", "4111-1111-1111-1112")
    values[valid & (rng.random(n) < 0.5)] = "5555-5555-5555-4444"
    found = _one(pd.DataFrame({"x": values}))
    card = found[("x", "payment_card")]
    assert (card.matches, card.checked, card.share) == (300, 1000, 0.3)


def test_numbers_need_the_name_for_ssn_phone_and_birth_dates() -> None:
    frame = pd.DataFrame(
        {
            "ssn": [123456789, 12345678, 666123456, 987654320],  # 12345678 -> 012-34-5678
            "id9": [123456789, 12345678, 666123456, 987654320],
            "mobile": [2024561111, 2025550143, 40, 1169],
            "count": [2024561111, 2025550143, 40, 1169],
            "birth_date": ["19850312", "1990", "20991231", "x"],
            "code8": ["19850312", "19900101", "19700101", "19600101"],
            "card": pd.Series([4111111111111111, np.nan, 4111111111111112, 5555555555554444]),
        }
    )
    found = _one(frame)
    assert found[("ssn", "us_ssn")].matches == 2
    assert found[("mobile", "phone")].matches == 2
    assert found[("birth_date", "date_of_birth")].matches == 2
    card = found[("card", "payment_card")]  # whole floats (an int column with NaN) are read
    assert (card.matches, card.checked) == (2, 3)
    assert {c for c, _ in found} == {"ssn", "mobile", "birth_date", "card"}


def test_dates_of_birth_by_name_and_by_content() -> None:
    rng = np.random.default_rng(5)
    n = 400
    born = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 60 * 365, n), unit="D")
    recent = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 800, n), unit="D")
    hired = pd.Timestamp("1995-01-01") + pd.to_timedelta(rng.integers(0, 25 * 365, n), unit="D")
    frame = pd.DataFrame(
        {
            "dob": born,
            "when": born.strftime("%d/%m/%Y"),  # unnamed birth dates: possible DOB
            "event_date": recent.strftime("%Y-%m-%d"),  # recent dates: not a DOB
            "start": hired,  # ages 5-30: too many under 16 for a population's birth dates
            "date_of_birth": _column([*DOBS, "2030-01-01", "1800-01-01"], n, fill="unknown"),
        }
    )
    found = _one(frame)
    assert found[("dob", "date_of_birth")].share == 1.0
    possible = found[("when", "date_of_birth")]
    assert not possible.by_name and possible.share == 1.0
    assert possible.note is not None and "possible date of birth" in possible.note
    assert ("event_date", "date_of_birth") not in found
    assert ("start", "date_of_birth") not in found
    assert found[("date_of_birth", "date_of_birth")].matches == len(DOBS)  # not future / 1800


def test_mixed_column_reports_each_kind_once_per_value() -> None:
    values = ["john.doe@example.com"] * 6 + ["+1 202-555-0143"] * 3 + ["123-45-6789"]
    found = _one(pd.DataFrame({"contact": values}))
    assert found[("contact", "email")].share == 0.6
    assert found[("contact", "phone")].share == 0.3
    assert found[("contact", "us_ssn")].share == 0.1
    found = _one(pd.DataFrame({"contact": values}), min_share=0.2)
    assert set(found) == {("contact", "email"), ("contact", "phone")}


def test_min_share_threshold_is_inclusive() -> None:
    values = ["4111111111111111"] + ["abc"] * 19
    assert ("x", "payment_card") in _one(pd.DataFrame({"x": values}), min_share=0.05)
    assert ("x", "payment_card") not in _one(pd.DataFrame({"x": values}), min_share=0.06)


# --- what must not be flagged ----------------------------------------------------------------


def test_adult_has_no_pii() -> None:
    assert scan_pii(pd.read_csv(ADULT_CSV), today=TODAY) == []


def test_german_credit_only_flags_the_telephone_flag_by_name() -> None:
    found = scan_pii(pd.read_csv(GERMAN_CSV), today=TODAY)
    assert len(found) == 1
    tel = found[0]
    assert (tel.column, tel.kind, tel.by_name, tel.share, tel.matches) == (
        "telephone",
        "phone",
        True,
        0.0,
        0,
    )
    assert tel.checked == 1000 and tel.example is None
    assert tel.note is not None and "no value validates" in tel.note


def test_ids_amounts_ages_and_measurements_are_not_flagged() -> None:
    rng = np.random.default_rng(11)
    n = 5000
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "customer_id": rng.integers(10**8, 10**9, n),  # 9-digit ids: not SSNs
            "account": rng.integers(10**9, 10**10, n),  # 10-digit ids: not phones
            "ref": [f"{x:016d}" for x in rng.integers(10**15, 10**16, n)],  # ~3% Luhn+IIN
            "amount": rng.gamma(2.0, 500.0, n),
            "age": rng.integers(18, 90, n),
            "score": rng.normal(size=n),
            "flag": rng.random(n) < 0.5,
            "version": rng.choice(["1.2", "2.0.1", "3.1.4-beta"], n),
            "year": rng.integers(1950, 2020, n),
        }
    )
    assert scan_pii(frame, today=TODAY) == []


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("email", "john.doe@example.com", "j***@e***.com"),
        ("phone", "+1 202-555-0143", "+*** *** **43"),
        ("us_ssn", "123-45-6789", "***-**-**89"),
        ("payment_card", "4111 1111 1111 1111", "**** **** **** 1111"),
        ("iban", "GB82 WEST 1234 5698 7654 32", "GB** **** **** **** **32"),
        ("ip_address", "192.168.10.20", "192.***.***.***"),
        ("ip_address", "2001:db8::1", "2001:****:****:****"),
        ("date_of_birth", "1985-03-12", "19**-**-**"),
        ("person_name", "Jane Q. Public", "J*** Q*** P***"),
        ("address", "12 Main Street", "1*** M*** S***"),
        ("username", "a", "***"),  # the guard: "a***" would show the whole value
    ],
)
def test_mask(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_no_raw_value_in_any_field() -> None:
    n = 40
    frame = pd.DataFrame(
        {
            "card": _column(VALID_CARDS, n, "x"),
            "ssn": _column(VALID_SSNS, n, "x"),
            "iban": _column(VALID_IBANS, n, "x"),
            "email": _column(EMAILS, n, "x"),
            "phone": _column(PHONES, n, "x"),
            "ip": _column(IPS, n, "x"),
            "dob": _column(DOBS, n, "x"),
            "full_name": _column(["Jane Q. Public", "John Smith"], n, "x"),
            "street_address": _column(["12 Main Street"], n, "x"),
            "mixed": _column(ALL_PII, n, "x"),
        }
    )
    found = scan_pii(frame, today=TODAY)
    assert {f.column for f in found} == set(frame.columns)
    text = repr(found).lower()
    compact = "".join(ch for ch in text if ch.isalnum())
    for raw in [*ALL_PII, "Jane Q. Public", "John Smith", "12 Main Street"]:
        assert raw.lower() not in text
        assert "".join(ch for ch in raw.lower() if ch.isalnum()) not in compact
    assert all(f.example is not None for f in found)


# --- sampling, determinism, limits -----------------------------------------------------------


def test_sampling_is_seeded_and_bounded() -> None:
    rng = np.random.default_rng(2)
    values = np.where(rng.random(5000) < 0.4, "4111111111111111", "nothing")
    frame = pd.DataFrame({"x": values, "y": values[::-1]})
    a = scan_pii(frame, max_rows=500, seed=1, today=TODAY)
    b = scan_pii(frame, max_rows=500, seed=1, today=TODAY)
    c = scan_pii(frame, max_rows=500, seed=2, today=TODAY)
    assert a == b
    assert [f.matches for f in a] != [f.matches for f in c]
    assert all(f.checked == 500 and 0.3 < (f.share or 0) < 0.5 for f in a)
    assert a[0].note is not None and "500 of 5,000" in a[0].note


def test_missing_and_blank_values_are_not_checked() -> None:
    frame = pd.DataFrame(
        {
            "email": [None, "  ", "", "john.doe@example.com", np.nan],
            "phone": [np.nan] * 5,
        }
    )
    found = _one(frame)
    assert (found[("email", "email")].matches, found[("email", "email")].checked) == (1, 1)
    empty = found[("phone", "phone")]
    assert (empty.share, empty.checked, empty.example) == (None, 0, None)


def test_slow_validators_fall_back_to_a_row_subset() -> None:
    n = 3000
    phones = [f"+1 202-555-{i:04d}" for i in range(n)]
    found = _one(pd.DataFrame({"phone": phones}))
    phone = found[("phone", "phone")]
    assert (phone.checked, phone.matches, phone.share) == (1000, 1000, 1.0)
    assert phone.note is not None and "1,000 of the 3,000" in phone.note


def test_categorical_and_object_mixes() -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["john.doe@example.com", "x", "y", "z"] * 5),
            "obj": pd.Series([4111111111111111, "4111111111111112", None, 1.5] * 5, dtype=object),
        }
    )
    found = _one(frame)
    assert found[("cat", "email")].share == 0.25
    assert found[("obj", "payment_card")].matches == 5


def test_bad_arguments() -> None:
    frame = pd.DataFrame({"x": [1]})
    with pytest.raises(UsageError):
        scan_pii(frame, max_rows=0)
    with pytest.raises(UsageError):
        scan_pii(frame, min_share=0.0)
    with pytest.raises(UsageError):
        scan_pii([1, 2])  # type: ignore[arg-type]


def test_fifty_columns_of_ten_thousand_rows_are_fast() -> None:
    rng = np.random.default_rng(1)
    n = 10_000
    cols: dict[str, object] = {f"f{i}": rng.normal(size=n) for i in range(20)}
    cols |= {f"i{i}": rng.integers(0, 10**6, n) for i in range(10)}
    cols |= {f"s{i}": rng.choice(["alpha", "beta", "gamma"], n) for i in range(10)}
    cols |= {f"id{i}": [f"ID-{x:08d}" for x in rng.integers(0, 10**8, n)] for i in range(4)}
    cols["email"] = [f"user{x}@example.com" for x in rng.integers(0, 10**9, n)]
    cols["phone"] = [f"+1 202-555-{x:04d}" for x in rng.integers(0, 10**4, n)]
    cols["card"] = [f"4{x:015d}" for x in rng.integers(0, 10**15, n)]
    cols["ssn"] = [f"{x:03d}-45-6789" for x in rng.integers(1, 899, n)]
    cols["ip"] = [f"10.{a}.{b}.{c}" for a, b, c in rng.integers(0, 255, (n, 3))]
    cols["dob"] = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 18000, n), "D")
    frame = pd.DataFrame(cols)
    start = time.perf_counter()
    found = scan_pii(frame, today=TODAY)
    elapsed = time.perf_counter() - start
    assert {f.column for f in found} == {"email", "phone", "card", "ssn", "ip", "dob"}
    assert elapsed < 10.0, elapsed  # about 1 s on a loaded 2-core machine
