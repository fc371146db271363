"""factory_boy factories for deployments (users come from the real sign-up service)."""
import uuid

import factory

from deployments.models import Deployment, DeploymentStatus, Operation, Token


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    standard = "erc20-mintable"
    network = "evm-local"
    request = factory.LazyFunction(lambda: {"network": "evm-local", "name": "T", "symbol": "T", "decimals": 18,
                                            "initial_supply": "1", "cap": "10"})
    status = DeploymentStatus.QUEUED
    correlation_id = factory.Sequence(lambda n: f"factory-{n}")


def token_of(deployment: Deployment, *, standard: str = "erc20-mintable", **fields: object) -> Token:
    """A registry row for `deployment` (no chain behind it: for routing, tenancy and schema tests)."""
    evm = standard.startswith("erc20")
    address = f"0x{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    defaults: dict[str, object] = {
        "organization_id": deployment.organization_id, "standard": standard,
        "network": "evm-local" if evm else "algorand-localnet", "family": "evm" if evm else "algorand",
        "contract_address": address if evm else "", "asset_id": None if evm else 1000,
        "name": "T", "symbol": "T", "decimals": 0, "issuer_address": address if evm else "A" * 58,
    }
    if not evm:
        defaults["roles"] = dict.fromkeys(("manager", "reserve", "freeze", "clawback"), "A" * 58)
    return Token.objects.create(deployment=deployment, **{**defaults, **fields})


def operation_of(token: Token, *, creator: object, kind: str = "transfer", **fields: object) -> Operation:
    return Operation.objects.create(organization_id=token.organization_id, creator=creator, token=token, kind=kind,
                                    standard=token.standard, network=token.network,
                                    request={"to": token.issuer_address, "amount": "1"},
                                    correlation_id=f"factory-{uuid.uuid4()}", **fields)


def operation_body(kind: str, *, address: str) -> dict[str, object]:
    """A well-formed body of `kind` naming `address` (what a test sends when the answer must be about
    the kind or the caller, not the body)."""
    one = {"to": address, "amount": "1"}
    return {"mint": one, "transfer": one, "burn": {"amount": "1"},
            "batch_transfer": {"transfers": [one]}, "freeze": {"address": address},
            "unfreeze": {"address": address}, "transfer_ownership": {"new_owner": address},
            "forced_transfer": {"from": address, "to": address, "amount": "1", "reason": "test"},
            "freeze_partial": {"address": address, "amount": "1"},
            "unfreeze_partial": {"address": address, "amount": "1"},
            "recovery": {"lost_address": address, "new_address": address, "reason": "test"}}.get(kind, {})
