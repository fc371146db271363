"""A gated allow-list bulk write on a real chain (anvil, erc20-security): the holders become eligible
on chain only once the request is approved; read back from the contract with plain web3.py."""
from __future__ import annotations

import pytest
from eth_account import Account

from accounts.models import Membership, User
from compliance.models import AllowListEntry
from deployments.models import Operation
from deployments.tests.test_operations_erc20_security import _contract, _deploy

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_holders_become_eligible_on_chain_only_after_the_bulk_is_approved(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    owner_body, owner = user_factory("gate.chain.owner")
    organization = Membership.objects.get(user_id=owner_body["id"]).organization
    approver_body, approver = user_factory("gate.chain.approver")
    Membership.objects.filter(user_id=approver_body["id"]).delete()
    Membership.objects.create(user=User.objects.get(pk=approver_body["id"]), organization=organization,
                              role="approver")
    token = _deploy(owner)
    chain = _contract(anvil_node.url, token.contract_address)
    answer = owner.put(f"/api/v1/organizations/{organization.pk}/approval-policy",
                       {"enabled": True, "allowlist_bulk_above": 1}, format="json")
    assert answer.status_code == 200, answer.content

    holders = [Account.create().address for _ in range(2)]
    answer = owner.post(f"/api/v1/tokens/{token.pk}/allowlist/bulk", {"entries": [{"address": a} for a in holders]},
                        format="json")
    assert answer.status_code == 202, answer.content
    assert not Operation.objects.filter(token=token, kind="allowlist_sync").exists()
    assert not AllowListEntry.objects.filter(token=token).exclude(address__iexact=token.issuer_address).exists()
    assert [chain.functions.isEligible(a).call() for a in holders] == [False, False]

    approved = approver.post(f"/api/v1/approvals/{answer.json()['id']}/approve", {}, format="json")
    assert approved.status_code == 200, approved.content
    (sync_id,) = approved.json()["result"]["sync_operation_ids"]
    sync = Operation.objects.get(pk=sync_id)
    assert sync.kind == "allowlist_sync" and sync.status == "completed", sync.error
    assert [chain.functions.isEligible(a).call() for a in holders] == [True, True]
