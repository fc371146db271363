"""Two processes funding from the dev faucet at once (what two Celery workers do on a local network):
every transfer lands, none fails with "nonce too low" (the performance issue saw 12 of 5,400
deployments fail that way while the faucet lock was per process)."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from eth_account import Account

from devchain.anvil import REPO_ROOT, AnvilProcess, rpc, start_anvil

pytestmark = [pytest.mark.chain, pytest.mark.slow]
PER_PROCESS = 100
AMOUNT = 10**15

WORKER = """
import sys
from devchain.faucet import fund
url, addresses = sys.argv[1], sys.argv[2:]
for address in addresses:
    fund(family="evm", node_url=url, node_token=None, address=address, amount={amount})
print("funded", len(addresses))
"""


@pytest.fixture
def node() -> Iterator[AnvilProcess]:
    anvil = start_anvil()
    yield anvil
    anvil.close()


def test_two_processes_fund_200_accounts_without_a_nonce_error(node):
    addresses = [Account.create().address for _ in range(2 * PER_PROCESS)]
    halves = [addresses[:PER_PROCESS], addresses[PER_PROCESS:]]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER.format(amount=AMOUNT), node.url, *half], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for half in halves]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert out.strip() == f"funded {PER_PROCESS}"
    balances = [int(rpc(node.url, "eth_getBalance", [a, "latest"]), 16) for a in addresses]
    assert balances == [AMOUNT] * len(addresses)
