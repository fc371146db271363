"""The world of the tenancy suites (tests/tenancy/world.py), built once per module."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tenancy.world import World, world_kept


@pytest.fixture(scope="module")
def kept_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with world_kept(django_db_blocker) as world:
        yield world


@pytest.fixture(autouse=True)
def _no_chain_nodes(settings) -> None:
    """The matrix's create outcome assumes no chain node is configured (400 NETWORK_UNAVAILABLE); session
    fixtures of other modules may have registered the local nodes in CHAIN_NODES before this module runs."""
    settings.CHAIN_NODES = {}


@pytest.fixture
def world(kept_world: World, db) -> World:
    """The module's users; objects (and the identifiers to look for) are made afresh by each test."""
    kept_world.secrets = list(kept_world.base_secrets)
    return kept_world
