"""Issue 19 item 5: the `regulated` option of the ASA standards (default-frozen, the issuer as freeze
address) and the token's `enforcement` ("on-chain" / "off-chain", `token_enforces_on_chain`).

The chain test deploys a regulated asa-ft through the API on the devnet and reads the asset back with
algosdk's own client; an outside holder opts in with its own key and holds a frozen holding, and a
transfer the issuer signs directly (its ARC-76 key, not through the API) is refused by the chain."""
import pytest
from algosdk import account, transaction
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient

from accounts import arc76
from accounts.models import Membership, User
from conftest import DEFAULT_PASSWORD
from deployments.models import Token
from deployments.tests.factories import DeploymentFactory, token_of
from deployments.token_enforcement import token_enforcement, token_enforces_on_chain
from tokens.standards import HOLDERS_BY_ASSET_FREEZE, STANDARDS
from tokens.standards.serializers import REGULATED_NEEDS_DEFAULT_FROZEN, REGULATED_NEEDS_FREEZE

pytestmark = pytest.mark.filterwarnings("ignore:Use sign_transaction_with_signer:DeprecationWarning")
ALGO = "algorand-localnet"
ASA_STANDARDS = sorted(slug for slug, spec in STANDARDS.items() if spec.is_asset)
BODY = {"network": ALGO, "name": "Regulated", "unit_name": "REG", "total": "1000", "decimals": 0}


@pytest.fixture
def algo_configured():  # noqa: ANN201
    """`algorand-localnet` with a node configured but nothing behind it: a request refused by
    validation never reaches the node (the pre-flight would answer NETWORK_UNAVAILABLE)."""
    from tests.chain_settings import network_node

    with network_node(ALGO, {"url": "http://127.0.0.1:9", "token": "a" * 64}):
        yield


def _org_user(user_factory, name: str):  # noqa: ANN001, ANN202
    body, client = user_factory(name)
    user = User.objects.get(pk=body["id"])
    return user, Membership.objects.get(user=user).organization, client


# -------------------------------------------------------------------------------- validation
@pytest.mark.django_db
@pytest.mark.parametrize("standard", ASA_STANDARDS)
def test_every_asset_standard_offers_regulated(standard):
    assert STANDARDS[standard].holder_enforcement == HOLDERS_BY_ASSET_FREEZE
    field = STANDARDS[standard].serializer().fields["regulated"]
    assert field.default is False


@pytest.mark.django_db
@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"freeze": ""}, "freeze", REGULATED_NEEDS_FREEZE),
    ({"default_frozen": False}, "default_frozen", REGULATED_NEEDS_DEFAULT_FROZEN),
])
def test_regulated_with_a_cleared_freeze_or_not_default_frozen_is_400(algo_configured, user_factory, extra, field,
                                                                      message):
    _, _, client = _org_user(user_factory, f"reg.bad.{field}")
    response = client.post("/api/v1/token/asa-ft/create", {**BODY, "regulated": True, **extra}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"]["fields"][field] == [message]
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_regulated_with_somebody_else_as_freeze_is_400(algo_configured, user_factory):
    _, _, client = _org_user(user_factory, "reg.bad.other")
    other = account.generate_account()[1]
    response = client.post("/api/v1/token/asa-ft/create", {**BODY, "regulated": True, "freeze": other},
                           format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["details"]["fields"]) == {"freeze"}


def test_the_build_makes_a_regulated_asset_default_frozen_with_the_issuer_as_freeze_and_clawback():
    from tokens.chains.algorand_build import asset_params_check

    issuer = account.generate_account()[1]
    p = asset_params_check(params={**BODY, "regulated": True}, standard="asa-ft", sender=issuer)
    assert (p["default_frozen"], p["freeze"], p["clawback"], p["manager"]) == (True, issuer, issuer, issuer)
    plain = asset_params_check(params=BODY, standard="asa-ft", sender=issuer)
    assert (plain["default_frozen"], plain["freeze"], plain["clawback"]) == (False, "", "")


# ------------------------------------------------------------------------------- enforcement
@pytest.mark.django_db
@pytest.mark.parametrize(("standard", "expected"), [
    ("erc20-mintable", "off-chain"), ("erc20-preminted", "off-chain"), ("erc20-security", "on-chain"),
    ("arc200-mintable", "off-chain"), ("arc1400-mintable", "on-chain"),
])
def test_enforcement_of_contract_standards_in_list_and_detail(user_factory, standard, expected):
    user, organization, client = _org_user(user_factory, f"enf.{standard}")
    token = token_of(DeploymentFactory(organization=organization, creator=user, status="completed",
                                       standard=standard), standard=standard)
    assert token_enforcement(token) == expected
    assert token_enforces_on_chain(token) is (expected == "on-chain")
    listed = client.get("/api/v1/tokens").json()
    assert [row["enforcement"] for row in listed["results"]] == [expected]


@pytest.mark.django_db
@pytest.mark.parametrize(("default_frozen", "freeze", "expected"), [
    (True, "issuer", True),    # regulated
    (False, "issuer", False),  # a freeze address alone does not make new holdings wait for the registry
    (True, "", False),         # freeze cleared: nobody can unfreeze
    (True, "other", False),    # freeze handed to someone the platform does not sign for
])
def test_an_asset_enforces_on_chain_only_default_frozen_with_the_issuer_as_freeze(user_factory, default_frozen,
                                                                                  freeze, expected):
    user, organization, _ = _org_user(user_factory, f"enf.asa.{default_frozen}.{freeze or 'none'}")
    issuer, other = account.generate_account()[1], account.generate_account()[1]
    roles = {"manager": issuer, "reserve": issuer, "clawback": issuer,
             "freeze": {"issuer": issuer, "other": other, "": ""}[freeze]}
    token = token_of(DeploymentFactory(organization=organization, creator=user, status="completed",
                                       standard="asa-ft", network=ALGO), standard="asa-ft",
                     issuer_address=issuer, roles=roles, default_frozen=default_frozen)
    assert token_enforces_on_chain(token) is expected


# ------------------------------------------------------------------------------- on the devnet
def _submit(node: AlgodClient, signed: transaction.SignedTransaction) -> dict:
    txid = node.send_transaction(signed)
    return transaction.wait_for_confirmation(node, txid, 10)


@pytest.mark.chain
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_regulated_asa_is_default_frozen_with_the_issuer_as_freeze_on_chain(algod_devnet_node, user_factory,
                                                                             settings):
    from tokens.chains import algorand as algo
    from tokens.networks import get_network

    settings.CELERY_TASK_ALWAYS_EAGER = True
    node = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    issuer_body, client = user_factory("reg.chain.issuer")
    issuer = issuer_body["algorand_address"]
    created = client.post("/api/v1/token/asa-ft/create", {**BODY, "regulated": True}, format="json")
    assert created.status_code == 202, created.content
    token = Token.objects.get(deployment_id=created.json()["id"])

    params = node.asset_info(token.asset_id)["params"]
    assert params["default-frozen"] is True
    assert params["freeze"] == issuer and params["clawback"] == issuer and params["manager"] == issuer
    assert node.account_asset_info(issuer, token.asset_id)["asset-holding"]["is-frozen"] is False
    assert client.get(f"/api/v1/tokens/{token.pk}").json()["enforcement"] == "on-chain"

    # An outside holder opts in with its own key: the holding starts frozen.
    holder_key, holder = account.generate_account()
    algo.ensure_funded(network=get_network(ALGO), address=holder, needed_microalgos=300_000)
    _submit(node, transaction.AssetOptInTxn(holder, node.suggested_params(), token.asset_id).sign(holder_key))
    assert node.account_asset_info(holder, token.asset_id)["asset-holding"] == {
        "amount": 0, "asset-id": token.asset_id, "is-frozen": True}

    # The issuer's own key (ARC-76 from its e-mail and password), a transfer sent directly: refused.
    issuer_key = arc76.algorand_private_key(arc76.arc76_seed("reg.chain.issuer@example.com", DEFAULT_PASSWORD))
    pay = transaction.AssetTransferTxn(issuer, node.suggested_params(), holder, 5, token.asset_id).sign(issuer_key)
    with pytest.raises(AlgodHTTPError) as refused:
        node.send_transaction(pay)
    assert "frozen" in str(refused.value)
    assert node.account_asset_info(holder, token.asset_id)["asset-holding"]["amount"] == 0

    # Unfrozen by the freeze address (what an active allow-list entry's sync does), the transfer goes through.
    _submit(node, transaction.AssetFreezeTxn(issuer, node.suggested_params(), token.asset_id, holder,
                                             False).sign(issuer_key))
    _submit(node, transaction.AssetTransferTxn(issuer, node.suggested_params(), holder, 5,
                                               token.asset_id).sign(issuer_key))
    assert node.account_asset_info(holder, token.asset_id)["asset-holding"]["amount"] == 5


@pytest.mark.chain
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_plain_asa_says_off_chain(algod_devnet_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    node = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    issuer_body, client = user_factory("reg.chain.plain")
    created = client.post("/api/v1/token/asa-ft/create", {**BODY, "freeze": issuer_body["algorand_address"]},
                          format="json")
    assert created.status_code == 202, created.content
    token = Token.objects.get(deployment_id=created.json()["id"])
    assert node.asset_info(token.asset_id)["params"]["default-frozen"] is False
    assert token.default_frozen is False
    detail = client.get(f"/api/v1/tokens/{token.pk}").json()
    assert detail["enforcement"] == "off-chain"
    assert [row["enforcement"] for row in client.get("/api/v1/tokens").json()["results"]] == ["off-chain"]
