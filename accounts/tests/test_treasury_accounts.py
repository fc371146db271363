"""Organization treasury accounts (docs/treasury.md): random keys per organization and chain, sealed
by the key vault, created once; opened only in a signer context whose use is audited in the
organization with no user; the default issuer account; nothing secret in the admin or the logs."""
import pytest
from django.test import Client
from eth_account import Account

from accounts import arc76, keyvault
from accounts.models import EncryptedSecret, Membership, OrganizationAccount, SecurityEvent, User
from accounts.signing import treasury_chain_key
from accounts.treasury import default_issuer_account, treasury_account_ensure
from tests.otp import otp_force_login
from tokens.networks import get_network

pytestmark = pytest.mark.django_db


def _organization(user_factory, name: str):  # noqa: ANN001, ANN202
    body, _ = user_factory(name)
    return Membership.objects.get(user_id=body["id"]).organization, body


def test_one_random_sealed_account_per_organization_and_chain(user_factory):
    first, body = _organization(user_factory, "treasury.unit.a")
    second, _ = _organization(user_factory, "treasury.unit.b")
    evm, algo = get_network("evm-local"), get_network("algorand-localnet")
    a_evm = treasury_account_ensure(organization_id=first.pk, network=evm)
    assert treasury_account_ensure(organization_id=first.pk, network=evm) == a_evm  # created once
    a_algo = treasury_account_ensure(organization_id=first.pk, network=algo)
    b_evm = treasury_account_ensure(organization_id=second.pk, network=evm)
    assert OrganizationAccount.objects.filter(organization=first).count() == 2
    assert len({a_evm.address, b_evm.address}) == 2 and a_evm.chain_id == 31337 and a_algo.chain_id == 0
    assert a_algo.address != body["algorand_address"]
    secret = EncryptedSecret.objects.get(pk=a_evm.secret_id)
    assert (secret.owner_id, secret.purpose) == (f"org:{first.pk}", "treasury:evm:31337")
    assert Account.from_key(keyvault.open_sealed(secret)).address == a_evm.address
    assert arc76.algorand_address(keyvault.open_sealed(EncryptedSecret.objects.get(pk=a_algo.secret_id))) \
        == a_algo.address
    derived = SecurityEvent.objects.filter(event_type="key_derived", user=None, details__account="organization")
    assert derived.count() == 3


def test_the_treasury_signer_signs_and_is_audited_in_the_organization(user_factory):
    organization, _ = _organization(user_factory, "treasury.unit.signer")
    key = treasury_chain_key(organization_id=organization.pk, network=get_network("evm-local"))
    tx = {"to": key.address, "value": 0, "gas": 21000, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1, "nonce": 0,
          "chainId": 31337}
    with key.open("unit test") as signer:
        signed = signer.sign_transaction(tx)
    assert Account.recover_transaction(signed.raw_transaction) == key.address
    with pytest.raises(RuntimeError):
        signer.sign_transaction(tx)  # unusable after its context
    use = SecurityEvent.objects.get(event_type="key_use", details__reason="unit test")
    assert use.user_id is None and use.details["key"] == "treasury:evm:31337"


def test_default_issuer_account_follows_the_member_count(user_factory):
    organization, _ = _organization(user_factory, "treasury.unit.solo")
    assert default_issuer_account(organization.pk) == "member"
    other, _ = user_factory("treasury.unit.second")
    Membership.objects.create(user_id=other["id"], organization=organization, role=Membership.Role.VIEWER)
    assert default_issuer_account(organization.pk) == "organization"


def test_the_admin_shows_the_address_never_the_key(user_factory, json_logs):
    organization, _ = _organization(user_factory, "treasury.unit.admin")
    account = treasury_account_ensure(organization_id=organization.pk, network=get_network("evm-local"))
    key = keyvault.open_sealed(EncryptedSecret.objects.get(pk=account.secret_id))
    staff = User.objects.create_superuser("staff.treasury@example.com", "staff password for admin 1")
    admin = Client()
    otp_force_login(admin, staff)
    page = admin.get(f"/admin/accounts/organization/{organization.pk}/change/").content.decode()
    assert account.address in page
    found = admin.get(f"/admin/accounts/organization/?q={account.address}").content.decode()
    assert str(organization.pk) in found
    haystack = page + found + json_logs.text
    assert key.hex() not in haystack and ("0x" + key.hex()) not in haystack
    assert "/admin/accounts/encryptedsecret/" not in page
