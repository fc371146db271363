"""The fuzz modules' world: the tenant matrix's users and organizations (tests/tenancy/world.py), built
once per module; each test gets fresh objects of organization X to name in its paths."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tenancy.world import World, world_kept


@pytest.fixture(scope="module")
def kept_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with world_kept(django_db_blocker) as world:
        yield world


@pytest.fixture
def world(kept_world: World, db) -> World:
    kept_world.objects_new()
    return kept_world
