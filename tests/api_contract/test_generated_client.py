"""The demo, run through a Python client generated from /api/schema/ by openapi-python-client
(into a temporary folder, never committed), against a live server on the local chain nodes: register,
one token of each standard, poll to `completed`, read the history. Nothing is hand-built: if the
generated client cannot express a call, the schema is wrong. Every answer is validated against the
schema it came from."""
from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tokens.standards import STANDARDS

from .openapi_validate import OpenApiValidator

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PACKAGE = "biatec_generated_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = """\
post_hooks: []
content_type_overrides:
  application/zip: application/octet-stream
  text/csv: application/octet-stream
"""


@pytest.fixture
def generated(live_server: Any, tmp_path: Path) -> Iterator[tuple[ModuleType, OpenApiValidator]]:
    schema = httpx.get(f"{live_server.url}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200
    document = json.loads(schema.content)
    (tmp_path / "schema.json").write_bytes(schema.content)
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(tmp_path / "schema.json"), "--output-path",
         str(tmp_path / PACKAGE), "--meta", "none", "--config", str(tmp_path / "config.yaml")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE), OpenApiValidator(document)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _operation(package: ModuleType, tag: str, operation_id: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation_id}")


def _body_type(module: ModuleType) -> Any:
    return inspect.signature(module.sync_detailed).parameters["body"].annotation


@pytest.mark.usefixtures("anvil_node", "algod_devnet_node", "ipfs_node")
def test_the_demo_through_a_generated_client(live_server: Any, generated: tuple[ModuleType, OpenApiValidator]) -> None:
    package, validator = generated

    def check(response: httpx.Response) -> None:
        response.read()
        validator.validate(method=response.request.method, path=response.request.url.path,
                           status=response.status_code, content_type=response.headers.get("content-type", ""),
                           body=response.content)

    hooks = {"event_hooks": {"response": [check]}}
    timeout = httpx.Timeout(300.0)  # eager mode: a create answers once its deployment has run
    client = package.Client(base_url=live_server.url, httpx_args=hooks, timeout=timeout,
                            raise_on_unexpected_status=True)

    register = _operation(package, "v1", "v1_auth_register_create")
    signed_up = register.sync_detailed(client=client, body=_body_type(register)(
        email="generated.client@example.com", password="correct horse battery staple 42!"))
    assert signed_up.status_code == 201, signed_up.content
    auth = package.AuthenticatedClient(base_url=live_server.url, token=signed_up.parsed.tokens.access,
                                       httpx_args=hooks, timeout=timeout, raise_on_unexpected_status=True)

    created: dict[str, Any] = {}
    for slug, spec in STANDARDS.items():
        create = _operation(package, "token", f"token_{slug.replace('-', '_')}_create")
        response = create.sync_detailed(client=auth, body=_body_type(create).from_dict(spec.example_request()),
                                        idempotency_key=f"demo-{slug}")
        assert response.status_code == 202, (slug, response.content)
        created[slug] = response.parsed.id

    detail = _operation(package, "v1", "v1_token_deployments_retrieve")
    for slug, deployment_id in created.items():
        for _ in range(120):  # bounded polling; eager workers usually finish before the 202
            deployment = detail.sync(deployment_id, client=auth)
            if deployment.status.value in ("completed", "failed"):
                break
            time.sleep(1)
        assert deployment.status.value == "completed", (slug, deployment.to_dict())

    history = _operation(package, "v1", "v1_token_deployments_history_retrieve")
    for slug, deployment_id in created.items():
        steps = [event.to_status.value for event in history.sync(deployment_id, client=auth).results]
        assert steps[0] == "queued" and steps[-1] == "completed", (slug, steps)

    listing = _operation(package, "v1", "token_deployments_list").sync(client=auth)
    assert {row.standard.value for row in listing.results} == set(STANDARDS)
    profile = _operation(package, "v1", "v1_auth_profile_retrieve").sync(client=auth)
    assert {n.network for n in profile.evm_networks} >= {"evm-local", "ethereum-mainnet"}

    assert validator.problems() == []
    assert len(validator.checked) >= 1 + 2 * len(STANDARDS) + 3
