"""factory_boy factories for deployments (users come from the real sign-up service)."""
import factory

from deployments.models import Deployment, DeploymentStatus


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    standard = "erc20-mintable"
    network = "evm-local"
    request = factory.LazyFunction(lambda: {"network": "evm-local", "name": "T", "symbol": "T", "decimals": 18,
                                            "initial_supply": "1", "cap": "10"})
    status = DeploymentStatus.QUEUED
    correlation_id = factory.Sequence(lambda n: f"factory-{n}")
