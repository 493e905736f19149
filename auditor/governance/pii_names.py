"""Which kinds of PII a column's *name* suggests: a tokeniser and a documented vocabulary.

A name is split into lower-case tokens on anything that is not a letter or digit, on
camelCase and acronym boundaries and between letters and digits::

    "dateOfBirth" -> date of birth      "IPAddress" -> ip address     "address2" -> address 2
    "education-num" -> education num    "Customer_LastName" -> customer last name

Vocabulary (a kind matches on any listed token, or on a listed run of consecutive tokens):

===============  =============================================================================
email            email(s), mail, emailaddress, mailaddress; "e mail"
phone            phone(s), telephone, tel, telefon, mobile, mobilephone, cellphone, phonenumber,
                 fax, msisdn; "cell phone", "cell number", "cell no"; a name that is just "cell"
us_ssn           ssn(s), socialsecurity, socialsecuritynumber; "social security"
payment_card     creditcard, debitcard, cardnumber, cardno, creditcardnumber, ccnumber, ccnum,
                 pan; "credit card", "debit card", "payment card", "card number|no|num",
                 "cc number|num|no"  ("card" alone is not enough)
iban             iban(s)
ip_address       ip, ipaddress, ipaddr, ipv4, ipv6
date_of_birth    dob, birthdate(s), birthday, dateofbirth, birthyear, yob; or the token "birth"
                 / "born" unless place, country, city, town, weight, order, rate or name is
                 also present ("birth_weight", "place_of_birth" are not dates of birth)
person_name      surname(s), firstname, lastname, fullname, forename(s), givenname,
                 familyname, middlename, maidenname, fname, lname; or the token "name(s)" when
                 every other token is a person qualifier (first, last, full, given, family,
                 middle, maiden, sur, nick, legal, person, customer, client, patient, employee,
                 applicant, borrower, student, member, holder, cardholder, contact, mother,
                 father, spouse, beneficiary, guardian, insured, policyholder, subscriber,
                 passenger, respondent, candidate, recipient, sender, payee, payer, s).
                 So "name", "last_name" and "customer_name" match; "filename", "column_name",
                 "product_name", "hostname" and "surname_length" do not.
username         username(s), screenname; "user name", "screen name", "login name". A user
                 name is an online identifier (personal data), reported as its own kind, not
                 as a person's name.
address          address(es), addr, street, streetaddress, homeaddress, postcode(s), postalcode,
                 zipcode, zip; "postal code", "post code", "zip code". Not when email, mail,
                 ip, mac, url, web or wallet is also present ("email_address" is an email).
                 A postal/ZIP code alone is flagged (noted as a quasi-identifier, not a full
                 address): with sex and birth date it singles out most people.
===============  =============================================================================

A name containing a *veto* token describes a property of the data rather than holding it, and
matches nothing: has, is, count, cnt, len, length, type(s), kind, flag, verified, valid,
validated, domain, provider, carrier, format, missing, present, available, opt, optin,
consent, service(s), plan, usage, calls, minutes, charge(s), bill, limit, balance, amount,
score, ratio ("has_phone", "email_domain", "PhoneService", "credit_card_limit").

Deliberately not matched: age, sex, race, city, country, native-country, marital-status,
occupation, education-num, user_id / customer_id and other ids (sensitive or quasi-identifying
attributes, but not PII identifiers of the kinds scanned here).
"""

from __future__ import annotations

import re


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")

VETO = _words(
    "has is count cnt len length type types kind flag verified valid validated domain provider "
    "carrier format missing present available opt optin consent service services plan usage "
    "calls minutes charge charges bill limit balance amount score ratio"
)

_TOKENS: dict[str, frozenset[str]] = {
    "email": _words("email emails mail emailaddress mailaddress"),
    "phone": _words(
        "phone phones telephone tel telefon mobile mobilephone cellphone phonenumber fax msisdn"
    ),
    "us_ssn": _words("ssn ssns socialsecurity socialsecuritynumber"),
    "payment_card": _words(
        "creditcard debitcard cardnumber cardno creditcardnumber ccnumber ccnum pan"
    ),
    "iban": _words("iban ibans"),
    "ip_address": _words("ip ipaddress ipaddr ipv4 ipv6"),
    "date_of_birth": _words("dob birthdate birthdates birthday dateofbirth birthyear yob"),
    "person_name": _words(
        "surname surnames firstname lastname fullname forename forenames givenname familyname "
        "middlename maidenname fname lname"
    ),
    "username": _words("username usernames screenname"),
    "address": _words(
        "address addresses addr street streetaddress homeaddress postcode postcodes postalcode "
        "zipcode zip"
    ),
}
_PHRASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "email": (("e", "mail"),),
    "phone": (("cell", "phone"), ("cell", "number"), ("cell", "no")),
    "us_ssn": (("social", "security"),),
    "payment_card": tuple(
        (a, b)
        for a, bs in (
            ("credit", ("card",)),
            ("debit", ("card",)),
            ("payment", ("card",)),
            ("card", ("number", "no", "num")),
            ("cc", ("number", "num", "no")),
        )
        for b in bs
    ),
    "username": (("user", "name"), ("screen", "name"), ("login", "name")),
    "address": (("postal", "code"), ("post", "code"), ("zip", "code")),
}
_PERSON_QUALIFIERS = _words(
    "first last full given family middle maiden sur nick legal person customer client patient "
    "employee applicant borrower student member holder cardholder contact mother father spouse "
    "beneficiary guardian insured policyholder subscriber passenger respondent candidate "
    "recipient sender payee payer s"
)
_NOT_BIRTH_DATE = _words("place country city town weight order rate name")
_NOT_ADDRESS = _words("email emails mail ip mac url web wallet")
_POSTAL = _words("postcode postcodes postalcode zipcode zip postal post")

NAME_KINDS = (
    "email",
    "phone",
    "us_ssn",
    "payment_card",
    "iban",
    "ip_address",
    "date_of_birth",
    "person_name",
    "username",
    "address",
)


def name_tokens(name: object) -> tuple[str, ...]:
    """The lower-case tokens of a column name (see the module docstring)."""
    text = _LETTER_DIGIT.sub(" ", _ACRONYM.sub(" ", _CAMEL.sub(" ", str(name))))
    return tuple(t for t in _SEPARATORS.split(text.lower()) if t)


def _has_phrase(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


def _matches(kind: str, tokens: tuple[str, ...]) -> bool:
    if any(t in _TOKENS[kind] for t in tokens):
        return True
    if any(_has_phrase(tokens, p) for p in _PHRASES.get(kind, ())):
        return True
    if kind == "phone":
        return tokens == ("cell",)
    if kind == "date_of_birth":
        return bool({"birth", "born"} & set(tokens))
    if kind == "person_name":
        others = [t for t in tokens if t not in ("name", "names")]
        return len(others) < len(tokens) and all(t in _PERSON_QUALIFIERS for t in others)
    return False


def kinds_from_name(name: object) -> tuple[str, ...]:
    """The kinds a column name suggests, in :data:`NAME_KINDS` order (usually none or one)."""
    tokens = name_tokens(name)
    if not tokens or VETO.intersection(tokens):
        return ()
    found = [k for k in NAME_KINDS if _matches(k, tokens)]
    if "date_of_birth" in found and _NOT_BIRTH_DATE.intersection(tokens):
        found.remove("date_of_birth")
    if "address" in found and _NOT_ADDRESS.intersection(tokens):
        found.remove("address")
    if "person_name" in found and "username" in found:
        found.remove("person_name")
    return tuple(found)


def is_postal_code_name(name: object) -> bool:
    """True when an address match comes from a postal/ZIP code word only."""
    tokens = set(name_tokens(name))
    return bool(tokens & _POSTAL) and not tokens & {"address", "addr", "street", "addresses"}
