"""The compliance app's personal data (accounts/personal_data.py), registered by `ComplianceConfig.ready`:
allow-list entries naming the user (KYC status, jurisdiction) and changes the user made to policies and
to the holder registry. Allow-list entries are records the regulation requires: after an erasure
they stay, pointing at the pseudonymised user."""
from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import User
from accounts.personal_data import PersonalDataProvider, personal_data_provider_register, rows
from biatec.core.actors import user_actor

from .models import AllowListEntry, BlockListEntry, ComplianceDecision, IssuancePolicy, JurisdictionRules


def _history(model: Any) -> Any:
    return model.history.model


def _export(user: User) -> Any:
    actor = user_actor(user.pk)
    return {
        "allowlist_entries": rows(AllowListEntry.objects.filter(Q(user=user) | Q(added_by=actor))),
        "allowlist_history": rows(_history(AllowListEntry).objects.filter(Q(user=user) | Q(history_user=user))),
        "blocklist_changes": rows(_history(BlockListEntry).objects.filter(history_user=user)),
        "jurisdiction_rules_changes": rows(_history(JurisdictionRules).objects.filter(history_user=user)),
        "issuance_policy_changes": rows(_history(IssuancePolicy).objects.filter(history_user=user)),
        "compliance_decisions": rows(ComplianceDecision.objects.filter(actor=actor)),
    }


def register() -> None:
    personal_data_provider_register(PersonalDataProvider(
        name="compliance",
        description="Allow-list entries about you or that you added (KYC, investor category, jurisdiction) and "
                    "their history; changes you made to block lists, jurisdiction rules and issuance "
                    "policies; compliance decisions you took.",
        models=("compliance.AllowListEntry", "compliance.HistoricalAllowListEntry",
                "compliance.HistoricalBlockListEntry", "compliance.HistoricalJurisdictionRules",
                "compliance.HistoricalIssuancePolicy"),
        export=_export))
