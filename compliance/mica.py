"""MiCA (Regulation (EU) 2023/1114) evaluation of one token request: pure functions, no database.

Input: a validated compliance profile (see `compliance.profiles`), the token standard and its
validated request (supply, decimals), and the evaluation date. Output: the applicable regime, a list
of checks `{rule, article, status, reason}` and an overall result.

Status semantics:
- `pass`: the rule is met. For the two scope rules, `pass` means the claimed exclusion holds, so the
  token is outside MiCA (overall `out_of_scope`); `fail` means an exclusion is claimed that does not
  hold (a misclassification).
- `fail`: the rule is not met; its id is listed in `failing_rules` and the overall result is
  `non_compliant`.
- `not_applicable`: the rule does not apply to this token (another regime, an exemption applies,
  no offer to the public in the Union...). For the Art. 4(2) exemptions, `pass` means the exemption
  applies and `not_applicable` that it does not.

Simplifications (documented, deliberate): working days are Monday to Friday (no public-holiday
calendar); Art. 4(3) exemptions and the Art. 16(2) ART authorisation exemptions are not modelled.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tokens.standards import FRACTIONAL, FUNGIBLE, STANDARDS, UNIQUE

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not_applicable"
COMPLIANT, NON_COMPLIANT, OUT_OF_SCOPE = "compliant", "non_compliant", "out_of_scope"

UTILITY, ASSET_REFERENCED, E_MONEY, SECURITY, UNIQUE_NFT, OTHER = (
    "utility", "asset_referenced", "e_money", "security", "unique_nft", "other")
CLASSIFICATIONS = (UTILITY, ASSET_REFERENCED, E_MONEY, SECURITY, UNIQUE_NFT, OTHER)

REGIME_TITLE_II = "mica_title_ii_other_crypto_assets"
REGIME_TITLE_III = "mica_title_iii_asset_referenced_tokens"
REGIME_TITLE_IV = "mica_title_iv_e_money_tokens"
REGIME_EXCLUDED_NFT = "excluded_unique_nft"
REGIME_MIFID = "mifid_ii_financial_instrument"

EMT_INSTITUTIONS = frozenset({"credit_institution", "e_money_institution"})

EXEMPTION_PERSONS_LIMIT = 150                      # Art. 4(2)(a): fewer than 150 per member state
EXEMPTION_CONSIDERATION_EUR = Decimal("1000000")   # Art. 4(2)(b): does not exceed EUR 1 000 000
NOTIFICATION_WORKING_DAYS = 20                     # Art. 8(4) / Art. 51(11)

RULES: dict[str, str] = {
    "scope.unique_nft": "Art. 2(3)",
    "scope.financial_instrument": "Art. 2(4)(a)",
    "exemption.fewer_than_150_persons": "Art. 4(2)(a)",
    "exemption.consideration_up_to_1m_eur": "Art. 4(2)(b)",
    "exemption.qualified_investors_only": "Art. 4(2)(c)",
    "white_paper.published": "Art. 6",
    "white_paper.hash_recorded": "Art. 9",
    "notification.competent_authority": "Art. 8",
    "authorisation.art_issuer": "Art. 16",
    "authorisation.emt_issuer": "Art. 48",
}


@dataclass(frozen=True)
class TokenFacts:
    standard: str
    fungibility: str  # unique | fractional | fungible
    supply: str | None
    decimals: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"standard": self.standard, "fungibility": self.fungibility, "supply": self.supply,
                "decimals": self.decimals}


def token_facts(*, standard: str, request: dict[str, Any]) -> TokenFacts:
    spec = STANDARDS.get(standard)
    fungibility = spec.fungibility if spec is not None else FUNGIBLE
    supply = request.get("total") or request.get("cap") or request.get("initial_supply")
    decimals = request.get("decimals")
    return TokenFacts(standard=standard, fungibility=fungibility,
                      supply=str(supply) if supply is not None else None,
                      decimals=int(decimals) if decimals is not None else None)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days (Mon-Fri) after `start`."""
    current, remaining = start, days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count += 1
    return count


def _check(rule: str, status: str, reason: str, article: str | None = None) -> dict[str, str]:
    return {"rule": rule, "article": article or RULES[rule], "status": status, "reason": reason}


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _exemption_checks(profile: dict[str, Any]) -> list[dict[str, str]]:
    """Art. 4(2): offers of other crypto-assets exempt from the white-paper duty."""
    checks = []
    member_states = profile.get("member_states") or []
    offerees: dict[str, int] = profile.get("offerees_per_member_state") or {}
    max_holders = profile.get("max_holders")
    if member_states and all(ms in offerees for ms in member_states):
        over = sorted(ms for ms in member_states if offerees[ms] >= EXEMPTION_PERSONS_LIMIT)
        if over:
            checks.append(_check("exemption.fewer_than_150_persons", NOT_APPLICABLE,
                                 f"150 or more persons in {', '.join(over)}."))
        else:
            checks.append(_check("exemption.fewer_than_150_persons", PASS,
                                 "Fewer than 150 persons in every member state of the offer."))
    elif max_holders is not None and max_holders < EXEMPTION_PERSONS_LIMIT:
        checks.append(_check("exemption.fewer_than_150_persons", PASS,
                             f"At most {max_holders} holders in total, so fewer than 150 per member state."))
    else:
        checks.append(_check("exemption.fewer_than_150_persons", NOT_APPLICABLE,
                             "The number of persons per member state is not established."))
    consideration = profile.get("expected_total_consideration_eur")
    if consideration is None:
        checks.append(_check("exemption.consideration_up_to_1m_eur", NOT_APPLICABLE,
                             "The expected total consideration is not given."))
    elif Decimal(str(consideration)) <= EXEMPTION_CONSIDERATION_EUR:
        checks.append(_check("exemption.consideration_up_to_1m_eur", PASS,
                             f"Total consideration EUR {consideration} over 12 months does not exceed EUR 1,000,000."))
    else:
        checks.append(_check("exemption.consideration_up_to_1m_eur", NOT_APPLICABLE,
                             f"Total consideration EUR {consideration} over 12 months exceeds EUR 1,000,000."))
    if profile.get("qualified_investors_only"):
        checks.append(_check("exemption.qualified_investors_only", PASS,
                             "Offered solely to qualified investors who alone can hold the token."))
    else:
        checks.append(_check("exemption.qualified_investors_only", NOT_APPLICABLE,
                             "Not restricted to qualified investors."))
    return checks


def _white_paper_checks(profile: dict[str, Any], *, required: bool, why_not: str, article: str,
                        notification_article: str | None, as_of: date) -> list[dict[str, str]]:
    if not required:
        return [
            _check("white_paper.published", NOT_APPLICABLE, why_not, article),
            _check("white_paper.hash_recorded", NOT_APPLICABLE, why_not),
            _check("notification.competent_authority", NOT_APPLICABLE, why_not, notification_article),
        ]
    checks = []
    url = profile.get("white_paper_url")
    checks.append(_check("white_paper.published", PASS if url else FAIL,
                         f"White paper at {url}." if url else "A crypto-asset white paper is required; none given.",
                         article))
    digest = profile.get("white_paper_sha256")
    checks.append(_check("white_paper.hash_recorded", PASS if digest else FAIL,
                         f"SHA-256 {digest} recorded." if digest
                         else "The SHA-256 of the published white paper must be recorded."))
    if notification_article is None:
        checks.append(_check("notification.competent_authority", NOT_APPLICABLE,
                             "The white paper is approved as part of the issuer's authorisation (Art. 19, 21).",
                             "Art. 8"))
        return checks
    authority = profile.get("competent_authority")
    notified = _as_date(profile.get("notification_date"))
    publication = _as_date(profile.get("white_paper_publication_date")) or as_of
    if not authority or notified is None:
        checks.append(_check("notification.competent_authority", FAIL,
                             "The white paper must be notified to a competent authority (authority and date).",
                             notification_article))
    else:
        earliest = add_working_days(notified, NOTIFICATION_WORKING_DAYS)
        days = working_days_between(notified, publication)
        if publication >= earliest:
            checks.append(_check("notification.competent_authority", PASS,
                                 f"Notified to {authority} on {notified.isoformat()}, {days} working days before "
                                 f"publication on {publication.isoformat()}.", notification_article))
        else:
            checks.append(_check("notification.competent_authority", FAIL,
                                 f"Notified to {authority} on {notified.isoformat()}, only {days} working days "
                                 f"before publication on {publication.isoformat()}; at least 20 are required "
                                 f"(earliest publication {earliest.isoformat()}).", notification_article))
    return checks


# ------------------------------------------------------------------------------ the rule table
# What each classification claims and which MiCA duties follow from it. `mica_evaluate` only reads
# this table; a classification added to CLASSIFICATIONS without a row fails the table test.
NOT_OFFERED = "No offer to the public in the Union."
OTHER_CRYPTO_ASSETS_ONLY = "Art. 4(2) exemptions apply to other crypto-assets only."
EXEMPTION_RULES = ("exemption.fewer_than_150_persons", "exemption.consideration_up_to_1m_eur",
                   "exemption.qualified_investors_only")

UNIQUE_NFT_EXCLUSION_HOLDS: dict[str, bool] = {UNIQUE: True, FRACTIONAL: False, FUNGIBLE: False}
"""Art. 2(3) by the standard's fungibility (`Standard.fungibility` in tokens/standards/): fractional
parts of an NFT and fungible tokens are not unique."""


def _unique_nft_claim(profile: dict[str, Any], token: TokenFacts) -> dict[str, str]:
    if UNIQUE_NFT_EXCLUSION_HOLDS[token.fungibility]:
        return _check("scope.unique_nft", PASS,
                      f"'{token.standard}' is a unique, non-fungible token: excluded from MiCA.")
    return _check("scope.unique_nft", FAIL,
                  f"'{token.standard}' is {token.fungibility}: fractional parts of an NFT and "
                  "fungible tokens are not unique, so the Art. 2(3) exclusion does not apply; "
                  "they are evaluated as other crypto-assets.")


def _financial_instrument_claim(profile: dict[str, Any], token: TokenFacts) -> dict[str, str]:
    return _check("scope.financial_instrument", PASS,
                  "A security token is a financial instrument: MiFID II (and the Prospectus "
                  "Regulation) apply instead of MiCA.")


def _art_issuer_authorised(profile: dict[str, Any]) -> dict[str, str]:
    if profile.get("authorisation_reference"):
        return _check("authorisation.art_issuer", PASS,
                      f"Authorised as ART issuer: {profile['authorisation_reference']}.")
    return _check("authorisation.art_issuer", FAIL,
                  "Offering an asset-referenced token requires authorisation by the competent "
                  "authority; no authorisation reference given.")


def _emt_issuer_authorised(profile: dict[str, Any]) -> dict[str, str]:
    institution = profile.get("issuer_institution_type")
    if institution in EMT_INSTITUTIONS and profile.get("authorisation_reference"):
        return _check("authorisation.emt_issuer", PASS,
                      f"Issuer is an authorised {institution.replace('_', ' ')} "
                      f"({profile['authorisation_reference']}).")
    return _check("authorisation.emt_issuer", FAIL,
                  "Only an authorised credit institution or e-money institution may offer an "
                  f"e-money token (issuer type: {institution or 'not given'}, authorisation "
                  f"reference: {profile.get('authorisation_reference') or 'not given'}).")


@dataclass(frozen=True)
class Exclusion:
    """A scope rule (Art. 2): checked when the classification claims it, else not applicable."""
    regime: str
    not_claimed: str
    claim: Callable[[dict[str, Any], TokenFacts], dict[str, str]]
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Authorisation:
    """An authorisation rule: checked for an offer of the classification that requires it."""
    not_required: str
    check: Callable[[dict[str, Any]], dict[str, str]]


EXCLUSIONS: dict[str, Exclusion] = {
    "scope.unique_nft": Exclusion(REGIME_EXCLUDED_NFT, "No unique-NFT exclusion is claimed.", _unique_nft_claim),
    "scope.financial_instrument": Exclusion(REGIME_MIFID, "Not classified as a financial instrument.",
                                            _financial_instrument_claim, flags=("mifid_ii",)),
}
AUTHORISATIONS: dict[str, Authorisation] = {
    "authorisation.art_issuer": Authorisation("Not an asset-referenced token.", _art_issuer_authorised),
    "authorisation.emt_issuer": Authorisation("Not an e-money token.", _emt_issuer_authorised),
}


@dataclass(frozen=True)
class ClassificationRules:
    regime: str
    """The MiCA title that applies when no exclusion holds."""
    white_paper_article: str
    notification_article: str | None
    """None: the white paper is approved with the issuer's authorisation, not notified."""
    exclusion: str | None = None
    """The scope rule (a key of EXCLUSIONS) the classification claims."""
    exemptions: bool = False
    """The Art. 4(2) exemptions from the white-paper duty can apply (other crypto-assets)."""
    authorisation: str | None = None
    """The authorisation rule (a key of AUTHORISATIONS) an offer requires."""


_OTHER_CRYPTO_ASSET = ClassificationRules(REGIME_TITLE_II, "Art. 6", "Art. 8", exemptions=True)
CLASSIFICATION_RULES: dict[str, ClassificationRules] = {
    UTILITY: _OTHER_CRYPTO_ASSET,
    OTHER: _OTHER_CRYPTO_ASSET,
    # a unique-NFT claim that does not hold is evaluated as another crypto-asset
    UNIQUE_NFT: replace(_OTHER_CRYPTO_ASSET, exclusion="scope.unique_nft"),
    SECURITY: replace(_OTHER_CRYPTO_ASSET, exclusion="scope.financial_instrument"),
    ASSET_REFERENCED: ClassificationRules(REGIME_TITLE_III, "Art. 19", None,
                                          authorisation="authorisation.art_issuer"),
    E_MONEY: ClassificationRules(REGIME_TITLE_IV, "Art. 51", "Art. 51(11)", authorisation="authorisation.emt_issuer"),
}


def mica_evaluate(*, profile: dict[str, Any], token: TokenFacts, as_of: date) -> dict[str, Any]:
    """The MiCA result of `profile` for `token`, evaluated on `as_of` (used as the publication date
    when the profile gives none); the duties come from CLASSIFICATION_RULES."""
    classification = profile["token_classification"]
    rules = CLASSIFICATION_RULES[classification]
    offered = bool(profile.get("offer_to_public_eu"))
    checks: list[dict[str, str]] = []
    flags: list[str] = []

    for rule, exclusion in EXCLUSIONS.items():
        if rule == rules.exclusion:
            checks.append(exclusion.claim(profile, token))
            flags += exclusion.flags
        else:
            checks.append(_check(rule, NOT_APPLICABLE, exclusion.not_claimed))
    excluded = next((c for c in checks if c["status"] == PASS), None)
    if excluded is not None:
        reason = f"Outside MiCA ({excluded['article']})."
        checks += [_check(rule, NOT_APPLICABLE, reason) for rule in RULES if not rule.startswith("scope.")]
        return _result(regime=EXCLUSIONS[excluded["rule"]].regime, checks=checks, token=token, as_of=as_of,
                       flags=flags, classification=classification)

    white_paper_required, why_not = offered, NOT_OFFERED
    if not rules.exemptions:
        checks += [_check(rule, NOT_APPLICABLE, OTHER_CRYPTO_ASSETS_ONLY) for rule in EXEMPTION_RULES]
    elif not offered:
        checks += [_check(rule, NOT_APPLICABLE, NOT_OFFERED) for rule in EXEMPTION_RULES]
    else:
        exemptions = _exemption_checks(profile)
        exempt = [c for c in exemptions if c["status"] == PASS]
        checks += exemptions
        white_paper_required = not exempt
        why_not = f"Exempt from the white-paper duty ({exempt[0]['article']})." if exempt else ""
    checks += _white_paper_checks(profile, required=white_paper_required, why_not=why_not,
                                  article=rules.white_paper_article, notification_article=rules.notification_article,
                                  as_of=as_of)
    for rule, authorisation in AUTHORISATIONS.items():
        if rule != rules.authorisation:
            checks.append(_check(rule, NOT_APPLICABLE, authorisation.not_required))
        elif not offered:
            checks.append(_check(rule, NOT_APPLICABLE, NOT_OFFERED))
        else:
            checks.append(authorisation.check(profile))
    return _result(regime=rules.regime, checks=checks, token=token, as_of=as_of, flags=flags,
                   classification=classification)


def _result(*, regime: str, checks: list[dict[str, str]], token: TokenFacts, as_of: date, flags: list[str],
            classification: str) -> dict[str, Any]:
    order = list(RULES)
    checks = sorted(checks, key=lambda c: order.index(c["rule"]))
    failing = [c["rule"] for c in checks if c["status"] == FAIL]
    if failing:
        overall = NON_COMPLIANT
    elif regime in (REGIME_MIFID, REGIME_EXCLUDED_NFT):
        overall = OUT_OF_SCOPE
    else:
        overall = COMPLIANT
    return {
        "regulation": "MiCA (EU) 2023/1114",
        "overall": overall,
        "regime": regime,
        "classification": classification,
        "failing_rules": failing,
        "flags": flags,
        "checks": checks,
        "token": token.as_dict(),
        "as_of": as_of.isoformat(),
    }
