"""Statement budgets (counts, never times): what one request or one deployment costs the database.
A change that adds a query to these paths fails here; raise a budget only with a reason in the commit."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db
# Statements from `queued` to `completed` in the worker (the committed budgets; see docs/architecture.md).
# Measured 120 and 110 before the outbox, audit-savepoint and scheduling changes of the performance
# issue (97 / 87 after them); +2 each for the per-sender signing lock and its in-flight spend query;
# -5 each once transitions stopped writing simple-history rows; +4 each with token operations (the
# Token registry row and its history row at completion, the funding check's query of the sender's
# in-flight operation spends, the parts of a step read in the confirmed pass); a step's rows are read
# once per pass (14 more before that); EVM -1 once the signer took the account row chain_key had read;
# -1 each once the key-use event was told its organization (the job's) instead of looking one up;
# -5 each once a pass stopped re-reading the job between states (the transition hands back its row);
# -5 each once the outbox took the organization's subscriptions from its versioned cache;
# +2 each for metering (the chain fee of the confirmed transaction: its usage record's id, one INSERT);
# +4 each for the "deployment completed" e-mail queued in the completion's transaction (the
# deployment with its creator, the creator's preferences, the outbox insert, its dedupe check; the
# e-mail itself is sent by a task of its own, not counted here, like the submit task).
EVM_DEPLOYMENT_STATEMENTS = 92
ALGORAND_DEPLOYMENT_STATEMENTS = 83


def _member_deployment(user_factory):
    body, client = user_factory("budget.reader")
    organization = Membership.objects.get(user_id=body["id"]).organization
    deployment = DeploymentFactory(organization=organization, creator_id=body["id"])
    return client, deployment


def test_status_read_is_one_query_after_authentication(user_factory):
    client, deployment = _member_deployment(user_factory)
    client.get(f"/api/v1/token/deployments/{deployment.pk}")  # warm: the token-version cache entry
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/token/deployments/{deployment.pk}")
    assert response.status_code == 200 and response.json()["id"] == str(deployment.pk)
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "accounts_membership" in queries[0]["sql"]  # the membership check is in the same statement


def test_someone_elses_deployment_is_still_404_in_that_one_query(user_factory):
    _, deployment = _member_deployment(user_factory)
    _, stranger = user_factory("budget.stranger")
    stranger.get(f"/api/v1/token/deployments/{deployment.pk}")
    with CaptureQueriesContext(connection) as queries:
        response = stranger.get(f"/api/v1/token/deployments/{deployment.pk}")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert len(queries) == 1


def test_revocation_is_honoured_through_the_cache(user_factory):
    from accounts.models import User

    client, deployment = _member_deployment(user_factory)
    assert client.get(f"/api/v1/token/deployments/{deployment.pk}").status_code == 200  # cached now
    user = User.objects.get(pk=deployment.creator_id)
    user.token_version += 1
    user.save(update_fields=["token_version"])
    response = client.get(f"/api/v1/token/deployments/{deployment.pk}")
    assert response.status_code == 401 and response.json()["code"] == "NOT_AUTHENTICATED"


def test_deactivated_user_is_refused_through_the_cache(user_factory):
    from accounts.models import User

    client, deployment = _member_deployment(user_factory)
    assert client.get(f"/api/v1/token/deployments/{deployment.pk}").status_code == 200
    user = User.objects.get(pk=deployment.creator_id)
    user.is_active = False
    user.save()
    assert client.get(f"/api/v1/token/deployments/{deployment.pk}").status_code == 401


def test_without_redis_the_user_row_is_read(user_factory, settings):
    client, deployment = _member_deployment(user_factory)
    settings.CACHES = {**settings.CACHES, "auth-state": {**settings.CACHES["auth-state"],
                                                         "LOCATION": "redis://127.0.0.1:1/0"}}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/token/deployments/{deployment.pk}")
    assert response.status_code == 200
    assert len(queries) == 2  # the user's state, then the deployment


def test_other_user_fields_load_in_one_query(user_factory):
    """A view reading more of request.user (its Algorand address here) pays one query, not one per field."""
    client, _ = _member_deployment(user_factory)
    client.get("/api/v1/account/addresses")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/account/addresses")
    assert response.status_code == 200 and response.json()["results"]
    assert sum('FROM "accounts_user"' in q["sql"] for q in queries) == 1, [q["sql"] for q in queries]


def _statements_to_complete(client, standard: str, body: dict, monkeypatch) -> tuple[int, list[str]]:
    from deployments import services
    from deployments.models import Deployment
    from deployments.pipeline import deployment_advance

    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)  # we are the worker
    from accounts import notifications_services

    monkeypatch.setattr(notifications_services, "notification_dispatch", lambda *_a, **_k: None)  # the mail task
    response = client.post(f"/api/v1/token/{standard}/create", body, format="json")
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            if deployment_advance(deployment_id=deployment_id) is None:
                break
    assert Deployment.objects.get(pk=deployment_id).status == "completed"
    return len(queries), [q["sql"] for q in queries]


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_statement_budget_of_one_evm_deployment(anvil_node, user_factory, monkeypatch):
    _, client = user_factory("budget.evm")
    count, sql = _statements_to_complete(client, "erc20-mintable", {
        "network": "evm-local", "name": "Budget", "symbol": "BDG", "decimals": 18, "initial_supply": "1",
        "cap": "10"}, monkeypatch)
    print(f"\nEVM deployment: {count} statements")
    assert count <= EVM_DEPLOYMENT_STATEMENTS, "\n".join(sql)


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_statement_budget_of_one_algorand_deployment(algod_devnet_node, user_factory, monkeypatch):
    _, client = user_factory("budget.algo")
    count, sql = _statements_to_complete(client, "asa-ft", {
        "network": "algorand-localnet", "name": "Budget", "unit_name": "BDG", "total": "100", "decimals": 0},
        monkeypatch)
    print(f"\nAlgorand deployment: {count} statements")
    assert count <= ALGORAND_DEPLOYMENT_STATEMENTS, "\n".join(sql)


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_a_treasury_deployment_stays_within_the_same_budget(anvil_node, user_factory, monkeypatch):
    """The organization's treasury key (docs/treasury.md) costs what a member's does: one lookup of its
    account row (created at POST), then the sealed secret."""
    _, client = user_factory("budget.treasury")
    count, sql = _statements_to_complete(client, "erc20-mintable", {
        "network": "evm-local", "name": "Budget", "symbol": "BDG", "decimals": 18, "initial_supply": "1",
        "cap": "10", "issuer_account": "organization"}, monkeypatch)
    print(f"\nEVM treasury deployment: {count} statements")
    assert count <= EVM_DEPLOYMENT_STATEMENTS, "\n".join(sql)
