"""Before a creation is declared dead ("expired"), the pipeline has the adapter look at what the sender
created: a real algod forgets pending info of old transactions, so "expired" alone does not prove it
never landed."""
import pytest
from algosdk import transaction

from accounts.models import Membership, User
from accounts.signing import algorand_signer
from deployments.models import DeploymentTransaction
from deployments.pipeline import transaction_state
from deployments.tests.factories import DeploymentFactory
from devchain.algod import advance
from tokens.chains.algorand import algod_client, ensure_funded

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def _pending_deployment(user, *, name: str, last_valid: int):
    membership = Membership.objects.get(user=user)
    request = {"network": "algorand-localnet", "name": name, "unit_name": "XCHK", "total": "42", "decimals": 0}
    deployment = DeploymentFactory(organization=membership.organization, creator=user, standard="asa-ft",
                                   network="algorand-localnet", request=request, status="pending")
    tx = DeploymentTransaction.objects.create(
        deployment=deployment, step="asset_create", family="algorand", network="algorand-localnet",
        tx_id="A" * 52, sender=user.algorand_address, first_valid=1, last_valid=last_valid, signed_bytes=b"x",
        status="broadcast")
    return deployment, tx


def test_expired_but_created_counts_as_confirmed(algod_devnet_node, user_factory):
    body, _ = user_factory("expiry.check")
    user = User.objects.get(pk=body["id"])
    client = algod_client("algorand-localnet")
    ensure_funded(network="algorand-localnet", address=user.algorand_address, needed_microalgos=1_000_000)
    # The creation landed (signed with the user's key), but the node no longer knows our txid.
    sp = client.suggested_params()
    create = transaction.AssetConfigTxn(user.algorand_address, sp, total=42, decimals=0, unit_name="XCHK",
                                        asset_name="Landed anyway", default_frozen=False,
                                        strict_empty_address_check=False)
    with algorand_signer(user=user, reason="test") as signer:
        txid = client.send_transaction(signer.sign(create))
    asset_id = client.pending_transaction_info(txid)["asset-index"]
    advance(algod_devnet_node.url, 3, token=algod_devnet_node.token)

    deployment, tx = _pending_deployment(user, name="Landed anyway", last_valid=2)
    state = transaction_state(deployment=deployment, tx=tx)
    assert state.state == "confirmed" and state.info["asset_id"] == asset_id

    other, other_tx = _pending_deployment(user, name="Never landed", last_valid=2)
    assert transaction_state(deployment=other, tx=other_tx).state == "dead"
