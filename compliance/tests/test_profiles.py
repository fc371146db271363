"""Compliance profile validation: LEI check digits (ISO 17442 / ISO 7064 MOD 97-10), ISO 3166-1 countries."""
from __future__ import annotations

import pytest

from biatec.core.errors import ValidationFailed
from compliance.lei import lei_check_digits, lei_is_valid
from compliance.profiles import profile_normalize, profile_sha256

VALID_LEIS = [
    "5493001KJTIIGC8Y1R12",  # Bloomberg Finance L.P.
    "HWUPKR0MPOU8FGXBT394",  # Apple Inc.
    "529900T8BM49AURSDO55",
    "7LTWFZYICNSX8D621K86",  # Deutsche Bank AG
]
INVALID_LEIS = [
    "5493001KJTIIGC8Y1R13",   # last check digit off by one
    "5493001KJTIIGC8Y1R21",   # check digits swapped
    "HWUPKR0MPOU8FGXBT349",
    "5493001KJTIIGC8Y1R1",    # 19 characters
    "5493001KJTIIGC8Y1R120",  # 21 characters
    "5493001KJTIIGC8Y1RAB",   # check digits must be digits
    "5493001kjtiigc8y1r12",   # lower case is not the canonical form
    "5493001KJTIIGC8Y1-12",
    "",
]


@pytest.mark.parametrize("lei", VALID_LEIS)
def test_valid_leis(lei):
    assert lei_is_valid(lei)
    assert lei_check_digits(lei[:18]) == lei[18:]


@pytest.mark.parametrize("lei", INVALID_LEIS)
def test_invalid_leis(lei):
    assert not lei_is_valid(lei)


def test_check_digits_of_a_new_prefix_make_a_valid_lei():
    base = "213800ABCDEFGHIJ01"
    assert lei_is_valid(base + lei_check_digits(base))
    assert not lei_is_valid(base + f"{(int(lei_check_digits(base)) + 1) % 100:02d}")


BASE = {"issuer_legal_name": "Issuer SA", "issuer_country": "fr", "token_classification": "utility"}


def _errors(raw):
    with pytest.raises(ValidationFailed) as info:
        profile_normalize(raw)
    return info.value.details["fields"]["compliance_metadata"]


def test_profile_normal_form():
    profile = profile_normalize({**BASE, "issuer_lei": "5493001kjtiigc8y1r12", "offer_to_public_eu": True,
                                 "member_states": ["fr", "DE"], "offerees_per_member_state": {"de": 3},
                                 "expected_total_consideration_eur": 1000, "notification_date": "2026-01-05",
                                 "white_paper_url": "https://x.example/wp.pdf", "white_paper_sha256": "AB" * 32})
    assert profile["issuer_country"] == "FR"
    assert profile["issuer_lei"] == "5493001KJTIIGC8Y1R12"
    assert profile["member_states"] == ["DE", "FR"]
    assert profile["offerees_per_member_state"] == {"DE": 3}
    assert profile["expected_total_consideration_eur"] == "1000.00"
    assert profile["notification_date"] == "2026-01-05"
    assert profile["white_paper_sha256"] == "ab" * 32
    assert list(profile) == sorted(profile)
    assert profile_sha256(profile) == profile_sha256(dict(reversed(list(profile.items()))))


@pytest.mark.parametrize(("change", "field"), [
    ({"issuer_lei": "5493001KJTIIGC8Y1R13"}, "issuer_lei"),
    ({"issuer_country": "XX"}, "issuer_country"),
    ({"issuer_country": "DEU"}, "issuer_country"),
    ({"offer_to_public_eu": True, "member_states": ["US"]}, "member_states"),
    ({"offer_to_public_eu": True}, "member_states"),
    ({"token_classification": "stablecoin"}, "token_classification"),
    ({"white_paper_url": "https://x.example/wp", "white_paper_sha256": "xyz"}, "white_paper_sha256"),
    ({"white_paper_sha256": "ab" * 32}, "white_paper_url"),
    ({"member_states": ["DE"], "offerees_per_member_state": {"FR": 3}}, "offerees_per_member_state"),
    ({"expected_total_consideration_eur": "-1"}, "expected_total_consideration_eur"),
    ({"max_holders": 0}, "max_holders"),
    ({"surprise": 1}, "surprise"),
])
def test_profile_rejections(change, field):
    assert field in _errors({**BASE, **change})


def test_profile_requires_core_fields():
    errors = _errors({})
    assert {"issuer_legal_name", "issuer_country", "token_classification"} <= set(errors)


def test_profile_must_be_an_object():
    with pytest.raises(ValidationFailed):
        profile_normalize(["not", "an", "object"])
