"""Registering a local node as a network for the length of a test session."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def network_node(slug: str, node: dict[str, str]) -> Iterator[None]:
    """`settings.CHAIN_NODES[slug] = node` (mutated in place, so session fixtures outlive the
    per-test `settings` overrides), restored afterwards."""
    previous = settings.CHAIN_NODES.get(slug)
    settings.CHAIN_NODES[slug] = node
    try:
        yield
    finally:
        if previous is None:
            settings.CHAIN_NODES.pop(slug, None)
        else:
            settings.CHAIN_NODES[slug] = previous
