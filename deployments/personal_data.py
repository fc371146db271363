"""The deployments app's personal data (accounts/personal_data.py), registered by `DeploymentsConfig.ready`:
the deployments and operations a user requested, their history, the user's idempotency records; and
the erasure blocker that reads the chains: tokens whose roles the user's addresses hold
(ACCOUNT_CONTROLS_TOKENS) and platform tokens they hold a balance of (ACCOUNT_HOLDS_ASSETS)."""
from __future__ import annotations

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from accounts.models import Membership, User
from accounts.personal_data import (
    Erasure,
    ErasureBlocker,
    PersonalDataProvider,
    erasure_blocker_register,
    personal_data_provider_register,
    rows,
)
from tokens.networks import EVM, get_available_network

from .approval_models import ApprovalDecision, ApprovalPolicy, ApprovalRequest
from .models import Deployment, IdempotencyRecord
from .token_models import Operation, Token
from .token_state import token_live_state

HistoricalDeployment = Deployment.history.model
HistoricalOperation = Operation.history.model
HistoricalToken = Token.history.model


def _export(user: User) -> Any:
    return {
        "deployments": rows(Deployment.objects.filter(creator=user)),
        "deployment_history": rows(HistoricalDeployment.objects.filter(Q(creator=user) | Q(history_user=user))),
        "operations": rows(Operation.objects.filter(creator=user)),
        "operation_history": rows(HistoricalOperation.objects.filter(Q(creator=user) | Q(history_user=user))),
        "operations_naming_you": rows(_naming(Operation.objects.exclude(creator=user), (user.email,))),
        "token_changes": rows(HistoricalToken.objects.filter(history_user=user)),
        "idempotency_records": rows(IdempotencyRecord.objects.filter(user=user),
                                    exclude=("response_body", "response_headers")),
    }


def _naming(queryset: Any, needles: tuple[str, ...]) -> Any:
    """Rows whose `request` JSON contains one of `needles` (a text search, case-insensitive)."""
    q = Q(pk__in=[])
    for needle in needles:
        q |= Q(request_text__icontains=needle)
    return queryset.annotate(request_text=Cast("request", TextField())).filter(q)


def _erase(erasure: Erasure) -> None:
    """Deployments and operations stay (regulated records), pointing at the pseudonymised user; the
    recipients an operation named by e-mail (`request.named`) get the pseudonym; the idempotency
    records (cached answers, which may hold personal data) go."""
    emails = {e.lower() for e in erasure.emails}
    for model in (Operation, HistoricalOperation):
        for row in _naming(model.objects.all(), erasure.emails):
            named = dict((row.request or {}).get("named") or {})
            request = {**row.request, "named": {a: (erasure.pseudonym_email if str(e).lower() in emails else e)
                                                for a, e in named.items()}}
            model.objects.filter(pk=row.pk).update(request=request)
    IdempotencyRecord.objects.filter(user=erasure.user).delete()


def _family_addresses(token: Token, addresses: tuple[str, ...]) -> list[str]:
    evm = [a for a in addresses if a.startswith("0x")]
    return evm if get_available_network(token.network).family == EVM else [a for a in addresses if a not in evm]


def _candidate_tokens(user: User, addresses: tuple[str, ...]) -> list[Token]:
    """Tokens the user may control or hold: issued by the user's addresses, of the user's organizations,
    or named by an operation (a transfer, a role move) with one of the addresses."""
    if not addresses:
        return []
    lowered = [a.lower() for a in addresses]
    named = _naming(Operation.objects.all(), addresses).values_list("token_id", flat=True)
    organizations = Membership.objects.filter(user=user).values_list("organization_id", flat=True)
    q = Q(pk__in=list(named)) | Q(organization_id__in=list(organizations))
    for address in lowered:
        q |= Q(issuer_address__iexact=address)
    return list(Token.objects.filter(q, destroyed=False).order_by("created_at"))


def _blockers(user: User, addresses: tuple[str, ...]) -> list[dict[str, Any]]:
    """Reads each candidate token's live state from its chain (a node that does not answer refuses
    the erasure: 503, nothing is assumed)."""
    found: list[dict[str, Any]] = []
    for token in _candidate_tokens(user, addresses):
        mine = _family_addresses(token, addresses)
        if not mine:
            continue
        state = token_live_state(token, holders=mine)
        lowered = {a.lower() for a in mine}
        roles = {role: holder for role, holder in (state.get("roles") or {}).items()
                 if holder and str(holder).lower() in lowered}
        token_ref = {"token_id": str(token.pk), "name": token.name, "standard": token.standard,
                     "network": token.network, "chain_id": token.chain_id}
        if roles:
            found.append({"code": "ACCOUNT_CONTROLS_TOKENS", **token_ref, "roles": roles})
        for address, holding in (state.get("holders") or {}).items():
            if address.lower() in lowered and int(holding.get("balance") or 0) > 0:  # not the issuer's
                found.append({"code": "ACCOUNT_HOLDS_ASSETS", **token_ref, "address": address,
                              "balance": str(holding["balance"])})
    return found


def _forget(value: Any, emails: set[str], pseudonym: str) -> Any:
    """`value` (JSON) with every string, or key, that is one of `emails` replaced by `pseudonym`."""
    if isinstance(value, str):
        return pseudonym if value.lower() in emails else value
    if isinstance(value, list):
        return [_forget(item, emails, pseudonym) for item in value]
    if isinstance(value, dict):
        return {_forget(k, emails, pseudonym): _forget(v, emails, pseudonym) for k, v in value.items()}
    return value


APPROVAL_JSON = ("payload", "summary", "result")


def _erase_approvals(erasure: Erasure) -> None:
    """Approval requests stay (who asked for and who approved a regulated change); the e-mails their
    bodies name (a recipient, an allow-list row given by e-mail) get the pseudonym."""
    emails = {e.lower() for e in erasure.emails}
    if not emails:
        return
    q = Q(pk__in=[])
    for needle in emails:
        for name in APPROVAL_JSON:
            q |= Q(**{f"{name}_text__icontains": needle})
    texts = {f"{name}_text": Cast(name, TextField()) for name in APPROVAL_JSON}
    for approval in ApprovalRequest.objects.annotate(**texts).filter(q):
        ApprovalRequest.objects.filter(pk=approval.pk).update(**{
            name: _forget(getattr(approval, name), emails, erasure.pseudonym_email) for name in APPROVAL_JSON})


def _export_approvals(user: User) -> Any:
    """Four-eyes records stay on erasure (who asked for and who approved a regulated operation),
    pointing at the pseudonymised user (`_erase_approvals`)."""
    return {"approval_requests": rows(ApprovalRequest.objects.filter(requested_by=user)),
            "approval_decisions": rows(ApprovalDecision.objects.filter(user=user)),
            "approval_policy_changes": rows(ApprovalPolicy.history.model.objects.filter(
                Q(updated_by=user) | Q(history_user=user))),
            "approval_policies_last_changed_by_you": rows(ApprovalPolicy.objects.filter(updated_by=user))}


def register() -> None:
    personal_data_provider_register(PersonalDataProvider(
        name="approvals",
        description="Four-eyes approval requests you made, your decisions on others' (with comments), and "
                    "approval policy changes you made.",
        models=("deployments.ApprovalRequest", "deployments.ApprovalDecision", "deployments.ApprovalPolicy",
                "deployments.HistoricalApprovalPolicy"),
        export=_export_approvals, erase=_erase_approvals))
    personal_data_provider_register(PersonalDataProvider(
        name="deployments",
        description="Token deployments and operations you requested (request, status, results), their history, "
                    "operations that named your e-mail as a recipient, changes you made to tokens, and your "
                    "idempotency keys (without the cached answers).",
        models=("deployments.Deployment", "deployments.HistoricalDeployment", "deployments.Operation",
                "deployments.HistoricalOperation", "deployments.HistoricalToken", "deployments.IdempotencyRecord",
                "compliance.DeploymentComplianceRecord"),  # a proxy of Deployment: the same rows
        export=_export, erase=_erase))
    erasure_blocker_register(ErasureBlocker(name="tokens", check=_blockers))
