from __future__ import annotations

from collections.abc import Iterator

import pytest

from .stack import EmbeddedStack


@pytest.fixture
def embedded_stack_factory(tmp_path_factory) -> Iterator:  # noqa: ANN001
    """Start `make run` (its command line) with extra environment; every stack is stopped at teardown."""
    started: list[EmbeddedStack] = []

    def start(**extra_env: str) -> EmbeddedStack:
        stack = EmbeddedStack(tmp_path_factory.mktemp("embedded") / "var", extra_env)
        started.append(stack)
        stack.wait_ready()
        return stack

    yield start
    for stack in started:
        stack.stop()
