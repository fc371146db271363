"""MiCA evaluation: a table of profiles covering every rule, with expected check statuses and result."""
from __future__ import annotations

from datetime import date

import pytest

from compliance.mica import (
    AUTHORISATIONS,
    CLASSIFICATION_RULES,
    CLASSIFICATIONS,
    COMPLIANT,
    EXCLUSIONS,
    FAIL,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    OUT_OF_SCOPE,
    PASS,
    REGIME_EXCLUDED_NFT,
    REGIME_MIFID,
    REGIME_TITLE_II,
    REGIME_TITLE_III,
    REGIME_TITLE_IV,
    RULES,
    UNIQUE_NFT_EXCLUSION_HOLDS,
    add_working_days,
    mica_evaluate,
    token_facts,
    working_days_between,
)
from compliance.profiles import profile_normalize
from tokens.standards import STANDARDS

AS_OF = date(2026, 3, 2)  # a Monday
ERC20 = ("erc20-mintable", {"network": "evm-local", "name": "T", "symbol": "T", "decimals": 18,
                            "initial_supply": "100", "cap": "1000"})
ASA_NFT = ("asa-nft", {"network": "algorand-localnet", "name": "Art", "unit_name": "ART", "total": "1", "decimals": 0})
ASA_FNFT = ("asa-fnft", {"network": "algorand-localnet", "name": "Frac", "unit_name": "FR", "total": "1000",
                         "decimals": 3})
ARC3_FNFT = ("arc3-fnft", {"network": "algorand-localnet", "name": "Frac", "unit_name": "FR", "total": "100",
                           "decimals": 2})
ARC1400 = ("arc1400-mintable", {"network": "algorand-localnet", "name": "Sec", "symbol": "SEC", "decimals": 0,
                                "initial_supply": "10", "cap": "100"})

BASE = {"issuer_legal_name": "Example Issuer GmbH", "issuer_lei": "5493001KJTIIGC8Y1R12", "issuer_country": "DE"}
# A public offer of a utility token in two member states with every Title II duty met.
FULL_OFFER = {
    **BASE, "token_classification": "utility", "offer_to_public_eu": True, "member_states": ["DE", "FR"],
    "expected_total_consideration_eur": "5000000", "offerees_per_member_state": {"DE": 1000, "FR": 400},
    "white_paper_url": "https://issuer.example/white-paper.pdf", "white_paper_sha256": "ab" * 32,
    "white_paper_publication_date": "2026-04-01", "competent_authority": "BaFin", "notification_date": "2026-02-02",
}


def P(**changes):
    """FULL_OFFER with `changes`; a value of None removes the field."""
    profile = {**FULL_OFFER, **changes}
    return {k: v for k, v in profile.items() if v is not None}


NO_WHITE_PAPER = {"white_paper_url": None, "white_paper_sha256": None, "competent_authority": None,
                  "notification_date": None, "white_paper_publication_date": None}
EXEMPT_BY_SIZE = {"offerees_per_member_state": {"DE": 149, "FR": 12}, **NO_WHITE_PAPER}

S = {"nft": "scope.unique_nft", "fi": "scope.financial_instrument", "p150": "exemption.fewer_than_150_persons",
     "m1": "exemption.consideration_up_to_1m_eur", "qi": "exemption.qualified_investors_only",
     "wp": "white_paper.published", "hash": "white_paper.hash_recorded", "notif": "notification.competent_authority",
     "art": "authorisation.art_issuer", "emt": "authorisation.emt_issuer"}

# (id, token, profile, expected overall, expected regime, {rule short name: status})
CASES = [
    ("01 utility, full white-paper regime met", ERC20, P(), COMPLIANT, REGIME_TITLE_II,
     {"nft": NOT_APPLICABLE, "fi": NOT_APPLICABLE, "p150": NOT_APPLICABLE, "m1": NOT_APPLICABLE, "qi": NOT_APPLICABLE,
      "wp": PASS, "hash": PASS, "notif": PASS, "art": NOT_APPLICABLE, "emt": NOT_APPLICABLE}),
    ("02 unique NFT on asa-nft: Art. 2(3) exclusion", ASA_NFT,
     {**BASE, "token_classification": "unique_nft", "offer_to_public_eu": True, "member_states": ["DE"]},
     OUT_OF_SCOPE, REGIME_EXCLUDED_NFT,
     {"nft": PASS, "fi": NOT_APPLICABLE, "wp": NOT_APPLICABLE, "notif": NOT_APPLICABLE, "emt": NOT_APPLICABLE}),
    ("03 'unique NFT' on asa-fnft is fractional, not unique", ASA_FNFT,
     P(token_classification="unique_nft", **NO_WHITE_PAPER), NON_COMPLIANT, REGIME_TITLE_II,
     {"nft": FAIL, "wp": FAIL, "hash": FAIL, "notif": FAIL}),
    ("04 'unique NFT' on arc3-fnft with the white paper duties met", ARC3_FNFT, P(token_classification="unique_nft"),
     NON_COMPLIANT, REGIME_TITLE_II, {"nft": FAIL, "wp": PASS, "hash": PASS, "notif": PASS}),
    ("05 'unique NFT' claimed for a fungible ERC-20", ERC20, P(token_classification="unique_nft"),
     NON_COMPLIANT, REGIME_TITLE_II, {"nft": FAIL}),
    ("06 security token: MiFID II, outside MiCA", ARC1400,
     {**BASE, "token_classification": "security", "offer_to_public_eu": True, "member_states": ["DE"]},
     OUT_OF_SCOPE, REGIME_MIFID,
     {"fi": PASS, "nft": NOT_APPLICABLE, "wp": NOT_APPLICABLE, "art": NOT_APPLICABLE, "emt": NOT_APPLICABLE}),
    ("07 Art. 4(2)(a): fewer than 150 persons per member state", ERC20, P(**EXEMPT_BY_SIZE), COMPLIANT,
     REGIME_TITLE_II, {"p150": PASS, "m1": NOT_APPLICABLE, "qi": NOT_APPLICABLE, "wp": NOT_APPLICABLE,
                       "hash": NOT_APPLICABLE, "notif": NOT_APPLICABLE}),
    ("08 Art. 4(2)(a): 150 in one member state is not fewer than 150", ERC20,
     P(offerees_per_member_state={"DE": 150, "FR": 10}, **NO_WHITE_PAPER), NON_COMPLIANT, REGIME_TITLE_II,
     {"p150": NOT_APPLICABLE, "wp": FAIL, "hash": FAIL, "notif": FAIL}),
    ("09 Art. 4(2)(a) via max_holders < 150 when per-state counts are unknown", ERC20,
     P(offerees_per_member_state=None, max_holders=100, **NO_WHITE_PAPER), COMPLIANT, REGIME_TITLE_II,
     {"p150": PASS, "wp": NOT_APPLICABLE}),
    ("10 Art. 4(2)(b): consideration EUR 999,999.99", ERC20,
     P(expected_total_consideration_eur="999999.99", **NO_WHITE_PAPER), COMPLIANT, REGIME_TITLE_II,
     {"p150": NOT_APPLICABLE, "m1": PASS, "wp": NOT_APPLICABLE}),
    ("11 Art. 4(2)(b): EUR 1,000,000 does not exceed the threshold", ERC20,
     P(expected_total_consideration_eur="1000000", **NO_WHITE_PAPER), COMPLIANT, REGIME_TITLE_II, {"m1": PASS}),
    ("12 Art. 4(2)(b): EUR 1,000,000.01 exceeds it; no white paper", ERC20,
     P(expected_total_consideration_eur="1000000.01", **NO_WHITE_PAPER), NON_COMPLIANT, REGIME_TITLE_II,
     {"m1": NOT_APPLICABLE, "wp": FAIL, "hash": FAIL, "notif": FAIL}),
    ("13 Art. 4(2)(c): qualified investors only", ERC20, P(qualified_investors_only=True, **NO_WHITE_PAPER),
     COMPLIANT, REGIME_TITLE_II, {"qi": PASS, "wp": NOT_APPLICABLE}),
    ("14 white paper published but its hash not recorded", ERC20, P(white_paper_sha256=None), NON_COMPLIANT,
     REGIME_TITLE_II, {"wp": PASS, "hash": FAIL, "notif": PASS}),
    ("15 Art. 8: notified 19 working days before publication", ERC20,
     P(notification_date="2026-03-04", white_paper_publication_date="2026-03-31"), NON_COMPLIANT, REGIME_TITLE_II,
     {"notif": FAIL, "wp": PASS}),
    ("16 Art. 8: notified exactly 20 working days before publication", ERC20,
     P(notification_date="2026-03-03", white_paper_publication_date="2026-03-31"), COMPLIANT, REGIME_TITLE_II,
     {"notif": PASS}),
    ("17 Art. 8: no competent authority named", ERC20, P(competent_authority=None), NON_COMPLIANT, REGIME_TITLE_II,
     {"notif": FAIL}),
    ("18 Art. 8: no publication date: publication is the evaluation date", ERC20,
     P(white_paper_publication_date=None, notification_date="2026-02-20"), NON_COMPLIANT, REGIME_TITLE_II,
     {"notif": FAIL}),
    ("19 ART with authorisation (Art. 16)", ERC20,
     P(token_classification="asset_referenced", authorisation_reference="BaFin-ART-2026-001",
       competent_authority=None, notification_date=None), COMPLIANT, REGIME_TITLE_III,
     {"art": PASS, "emt": NOT_APPLICABLE, "p150": NOT_APPLICABLE, "wp": PASS, "hash": PASS, "notif": NOT_APPLICABLE}),
    ("20 ART without authorisation", ERC20, P(token_classification="asset_referenced",
                                               offerees_per_member_state={"DE": 10, "FR": 10}),
     NON_COMPLIANT, REGIME_TITLE_III, {"art": FAIL, "p150": NOT_APPLICABLE}),
    ("21 EMT issued by an e-money institution (Art. 48)", ERC20,
     P(token_classification="e_money", issuer_institution_type="e_money_institution",
       authorisation_reference="ACPR-EMI-17"), COMPLIANT, REGIME_TITLE_IV,
     {"emt": PASS, "art": NOT_APPLICABLE, "wp": PASS, "notif": PASS}),
    ("22 EMT issued by a credit institution", ERC20,
     P(token_classification="e_money", issuer_institution_type="credit_institution",
       authorisation_reference="ECB-CI-1"), COMPLIANT, REGIME_TITLE_IV, {"emt": PASS}),
    ("23 EMT issued by an investment firm", ERC20,
     P(token_classification="e_money", issuer_institution_type="investment_firm",
       authorisation_reference="X-1"), NON_COMPLIANT, REGIME_TITLE_IV, {"emt": FAIL}),
    ("24 EMT with no white paper notification", ERC20,
     P(token_classification="e_money", issuer_institution_type="credit_institution",
       authorisation_reference="ECB-CI-1", competent_authority=None, notification_date=None),
     NON_COMPLIANT, REGIME_TITLE_IV, {"emt": PASS, "notif": FAIL}),
    ("25 utility not offered to the public in the EU", ERC20,
     {**BASE, "token_classification": "utility", "offer_to_public_eu": False}, COMPLIANT, REGIME_TITLE_II,
     {"p150": NOT_APPLICABLE, "m1": NOT_APPLICABLE, "qi": NOT_APPLICABLE, "wp": NOT_APPLICABLE,
      "hash": NOT_APPLICABLE, "notif": NOT_APPLICABLE}),
    ("26 'other' crypto-asset with no white paper and no exemption", ERC20,
     P(token_classification="other", **NO_WHITE_PAPER), NON_COMPLIANT, REGIME_TITLE_II,
     {"wp": FAIL, "hash": FAIL, "notif": FAIL}),
]


@pytest.mark.parametrize(("token", "raw", "overall", "regime", "statuses"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mica_table(token, raw, overall, regime, statuses):
    standard, request = token
    profile = profile_normalize(raw)
    result = mica_evaluate(profile=profile, token=token_facts(standard=standard, request=request), as_of=AS_OF)
    by_rule = {c["rule"]: c for c in result["checks"]}
    assert set(by_rule) == set(RULES), "every rule is reported exactly once"
    assert len(result["checks"]) == len(RULES)
    for short, status in statuses.items():
        assert by_rule[S[short]]["status"] == status, (S[short], by_rule[S[short]])
    assert result["overall"] == overall
    assert result["regime"] == regime
    assert result["failing_rules"] == [c["rule"] for c in result["checks"] if c["status"] == FAIL]
    if overall == NON_COMPLIANT:
        assert result["failing_rules"]
    else:
        assert result["failing_rules"] == []
    for check in result["checks"]:
        assert check["article"].startswith("Art. ") and check["reason"]


def test_table_covers_every_rule_with_every_meaningful_status():
    seen = {(S[short], status) for *_, statuses in CASES for short, status in statuses.items()}
    never_fail = {"scope.financial_instrument", "exemption.fewer_than_150_persons",
                  "exemption.consideration_up_to_1m_eur", "exemption.qualified_investors_only"}
    for rule in RULES:
        assert (rule, PASS) in seen, rule
        assert (rule, NOT_APPLICABLE) in seen, rule
        if rule not in never_fail:
            assert (rule, FAIL) in seen, rule
    assert len(CASES) >= 15


def test_security_tokens_are_flagged_for_mifid():
    profile = profile_normalize({**BASE, "token_classification": "security"})
    result = mica_evaluate(profile=profile, token=token_facts(standard=ARC1400[0], request=ARC1400[1]), as_of=AS_OF)
    assert result["flags"] == ["mifid_ii"]
    assert "MiFID II" in next(c for c in result["checks"] if c["rule"] == "scope.financial_instrument")["reason"]


def test_token_facts_fungibility():
    assert token_facts(standard="asa-nft", request=ASA_NFT[1]).fungibility == "unique"
    assert token_facts(standard="arc3-nft", request={}).fungibility == "unique"
    assert token_facts(standard="asa-fnft", request=ASA_FNFT[1]).fungibility == "fractional"
    assert token_facts(standard="arc3-fnft", request={}).fungibility == "fractional"
    facts = token_facts(standard="erc20-mintable", request=ERC20[1])
    assert (facts.fungibility, facts.supply, facts.decimals) == ("fungible", "1000", 18)


def test_working_days():
    assert add_working_days(date(2026, 3, 3), 20) == date(2026, 3, 31)  # Tue + 4 weeks
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)    # Fri -> Mon
    assert working_days_between(date(2026, 3, 3), date(2026, 3, 31)) == 20
    assert working_days_between(date(2026, 3, 4), date(2026, 3, 31)) == 19
    assert working_days_between(date(2026, 3, 31), date(2026, 3, 3)) == 0


def test_evaluation_is_pure_and_deterministic():
    profile = profile_normalize(P())
    token = token_facts(standard=ERC20[0], request=ERC20[1])
    assert mica_evaluate(profile=profile, token=token, as_of=AS_OF) == mica_evaluate(profile=profile, token=token,
                                                                                   as_of=AS_OF)


def test_rule_table_covers_every_classification_and_every_fungibility_of_the_standards():
    """`mica_evaluate` reads CLASSIFICATION_RULES and the standards' `fungibility` flag
    (tokens/standards/): both tables are total, and every pair evaluates to a complete result."""
    assert set(CLASSIFICATION_RULES) == set(CLASSIFICATIONS)
    for rules in CLASSIFICATION_RULES.values():
        assert rules.exclusion is None or rules.exclusion in EXCLUSIONS
        assert rules.authorisation is None or rules.authorisation in AUTHORISATIONS
        assert rules.white_paper_article.startswith("Art. ")
    assert set(EXCLUSIONS) == {rule for rule in RULES if rule.startswith("scope.")}
    assert set(AUTHORISATIONS) == {rule for rule in RULES if rule.startswith("authorisation.")}
    fungibilities = {row.fungibility for row in STANDARDS.values()}
    assert fungibilities <= set(UNIQUE_NFT_EXCLUSION_HOLDS), fungibilities - set(UNIQUE_NFT_EXCLUSION_HOLDS)
    for classification in CLASSIFICATIONS:
        for slug, row in STANDARDS.items():
            profile = profile_normalize(P(token_classification=classification))
            result = mica_evaluate(profile=profile, token=token_facts(standard=slug, request=row.example),
                                   as_of=AS_OF)
            assert [c["rule"] for c in result["checks"]] == list(RULES), (classification, slug)
            assert result["regime"] in {CLASSIFICATION_RULES[classification].regime, REGIME_MIFID,
                                        REGIME_EXCLUDED_NFT}
