"""`make bench`: every benchmark of issue 13, each beside a baseline measured in the same run.

    python -m bench.run [--size small|full]        # BENCH_SIZE=small|full (default full)

Owns only what it creates (bench/isolation.py): a PostgreSQL database `biatec_bench_<pid>_<random>`
and the Redis keys under `biatec-bench-<pid>-<random>:`, both removed at the end, even on failure;
its own anvil and Algorand devnet (devchain). The product runs as in `make run`: gunicorn (gthread)
and real Celery workers (solo pool, one process each) with beat.

Figures (full size = the issue's sizes, median of 3; small = CI size, 1 repetition):
(a) status read throughput, p50/p99 vs a bare JSON view (one PK query) on the same server;
(b) erc20-mintable deployments end to end on anvil vs a bare web3.py script (deployments/s, CPU and
    storage per deployment); (c) asa-ft on the devnet vs a bare py-algorand-sdk script;
(d) registration vs one bare ARC-76 derivation; (e) POST create -> 202 under 50 clients vs idle;
(f) (b) with 1, 2 and 4 worker processes: failures, duplicates, nonce gaps;
(g) status / list with filters / support lookup / admin search p99, empty vs seeded table;
(h) issue 18: one batch_transfer of 1,000 recipients (small: 100) on anvil and on the devnet, POST ->
    completed, vs a bare web3.py / py-algorand-sdk script sending the same transfers (bench/distribution.py);
(i) issue 19: one allowlist/bulk of 1,000 entries (small: 100) on an erc20-security token (anvil) and an
    ARC-1400 token (devnet), POST -> allowlist_sync completed, vs a bare script making the same contract
    calls (bench/allowlist_sync.py).

Writes bench/results/latest.json and PNG plots (matplotlib; skipped with one line when missing).
Prints the table; asserts nothing about speed (tests/bench/test_bench_smoke.py runs the small size).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    Child,
    Http,
    free_port,
    load,
    median,
    start_beat,
    start_server,
    start_worker,
)
from bench.isolation import BenchDatabase, RedisKeys  # noqa: E402
from bench.profiles import profile_tree  # noqa: E402

T = TypeVar("T")

RESULTS_DIR = ROOT / "bench" / "results"
PASSWORD = "benchmark passphrase 2026, long enough!"  # noqa: S105 - a throwaway local account
EVM_BODY = {"network": "evm-local", "name": "Bench", "symbol": "BNCH", "decimals": 18, "initial_supply": "1000",
            "cap": "5000"}
ASA_BODY = {"network": "algorand-localnet", "name": "Bench ASA", "unit_name": "BNA", "total": "1000", "decimals": 0}
TERMINAL = ("completed", "failed", "cancelled")

FIGURES = ("status", "evm", "algo", "distribution", "allowlist", "create", "growth")
PROBE_ORGANIZATION_ROWS = 1000
"""Rows of the probe's organization in the "empty" table: its list filters' pages are full (the rarest
filter, every column at once, matches one row in 15)."""
SIZES: dict[str, dict[str, Any]] = {
    "full": {"reps": 3, "evm": 1000, "algo": 1000, "requests": 2000, "clients": 4, "create_per_client": 20,
             "registrations": 5, "seed_steps": [0, 10_000, 100_000, 1_000_000], "organizations": 1000,
             "probe_requests": 500, "probe_budget": 20, "workers": [1, 2, 4], "deployers": 4,
             "distribution": 1000, "allowlist": 1000},
    "small": {"reps": 1, "evm": 20, "algo": 20, "requests": 200, "clients": 4, "create_per_client": 2,
              "registrations": 2, "seed_steps": [0, 10_000], "organizations": 100,
              "probe_requests": 50, "probe_budget": 10, "workers": [1, 2, 4], "deployers": 2,
              "distribution": 100, "allowlist": 100},
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Run:
    """One benchmark run: its resources, processes and figures."""

    def __init__(self, size: str, stack: contextlib.ExitStack) -> None:
        self.size_name = size
        self.size = SIZES[size]
        self.stack = stack
        self.rows: list[dict[str, Any]] = []
        self.curves: dict[str, Any] = {}
        self.workers: list[Child] = []
        self.beat: Child | None = None
        self.profile = False  # --profile: one more burst / batch per chain with the worker under cProfile

    # --- resources ---------------------------------------------------------------------------

    def setup(self) -> None:
        import subprocess

        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True)
        self.commit = (head.stdout.strip() or "unknown") + (" + uncommitted changes" if dirty.stdout.strip() else "")
        log(f"code: {self.commit}")
        self.log_dir = Path(tempfile.mkdtemp(prefix="biatec-bench-"))
        self.db = BenchDatabase()
        self.keys = RedisKeys()
        log(f"database: {self.db.name}")
        log(f"redis prefix: {self.keys.prefix} on {self.keys.url}")
        log(f"logs: {self.log_dir}")
        self.stack.callback(self._cleanup_storage)
        self.db.create()
        from devchain.algod import start_devnet
        from devchain.anvil import start_anvil

        self.anvil = self.stack.enter_context(start_anvil(chain_id=31337))
        self.devnet = self.stack.enter_context(start_devnet())
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.db.url,
            "REDIS_URL": self.keys.url, "CELERY_BROKER_URL": self.keys.url, "THROTTLE_REDIS_URL": self.keys.url,
            "BENCH_REDIS_PREFIX": self.keys.prefix,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EVM_RPC_EVM_LOCAL": self.anvil.url,
            "ALGOD_URL_ALGORAND_LOCALNET": self.devnet.url, "ALGOD_TOKEN_ALGORAND_LOCALNET": self.devnet.token,
            "JWT_ACCESS_MINUTES": "600",
            # Beat's dashboard rebuild would run on the measured workers (seconds of CPU at a million
            # rows); the admin-dashboard probe keeps the build its first request made.
            "BACKOFFICE_DASHBOARD_REFRESH_SECONDS": "86400",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update({k: v for k, v in self.env.items() if k != "LOG_LEVEL"})
        os.environ["LOG_LEVEL"] = "WARNING"  # this process only measures

        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True)
        import django

        django.setup()
        self.port = free_port()
        self.server = start_server(self.env, self.log_dir, self.port)
        self.stack.callback(self.server.stop)
        self.stack.callback(self.stop_celery)
        self.http = Http(self.port)

    def _cleanup_storage(self) -> None:
        from django.db import connections

        connections.close_all()
        self.db.drop()
        deleted = self.keys.delete()
        log(f"cleanup: database {self.db.name} dropped, {deleted} redis key(s) under {self.keys.prefix} deleted")

    def start_celery(self, workers: int, profile: Path | None = None, wall: bool = False) -> None:
        """Beat, and `workers` worker processes, each booted before this returns: a worker's boot (its
        imports, some seconds of CPU) is not counted in the CPU per deployment of the burst after it."""
        if self.beat is None:
            self.beat = start_beat(self.env, self.log_dir)
        for index in range(len(self.workers), workers):
            self.workers.append(start_worker(self.env, self.log_dir, index, profile=profile, wall=wall))
        deadline = time.monotonic() + 180
        for worker in self.workers:
            while "ready." not in worker.log_path.read_text(errors="replace"):
                if time.monotonic() > deadline or not worker.alive():
                    raise RuntimeError(f"a worker did not start: {worker.tail()}")
                time.sleep(0.2)

    def profiled(self, name: str, action: Callable[[], T], wall: bool = False) -> tuple[Path, T]:
        """`action()` (not measured) with one worker only, under cProfile (its CPU time, or wall time with
        `wall`); the stats file and the action's result. The workers running before are back afterwards."""
        path = Path(self.log_dir) / f"worker-{name}.prof"
        count = len(self.workers)
        self.stop_workers()
        self.start_celery(1, profile=path, wall=wall)  # booted: its boot is not in the profile
        result = action()
        self.stop_workers()  # SIGTERM: the worker's warm shutdown writes the profile
        self.start_celery(count)
        return path, result

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def stop_celery(self) -> None:
        self.stop_workers()
        if self.beat is not None:
            self.beat.stop()
            self.beat = None

    def row(self, name: str, value: float | None, baseline: float | None, target: str, unit: str,
            ratio: float | None = None) -> None:
        if ratio is None and value is not None and baseline:
            ratio = value / baseline
        self.rows.append({"name": name, "value": value, "baseline": baseline, "ratio": ratio, "target": target,
                          "unit": unit})
        log(f"row: {name}: {format_value(value, unit)} {unit} (baseline {format_value(baseline, unit)})")

    # --- users ---------------------------------------------------------------------------------

    def register(self, email: str) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        body = self.http.json("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD}, expect=201)
        return body, (time.perf_counter() - started) * 1000

    def login(self, email: str) -> dict[str, str]:
        tokens = self.http.json("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {tokens['access']}"}

    def users_setup(self) -> None:
        """(d) registration (the server, as a client sees it) vs one bare ARC-76 derivation."""
        from accounts import arc76

        run_id = secrets.token_hex(3)
        self.staff_email = f"bench.staff.{run_id}@example.com"
        self.deployer_emails = [f"bench.deployer{i}.{run_id}@example.com" for i in range(self.size["deployers"])]
        extra = [f"bench.signup{i}.{run_id}@example.com"
                 for i in range(max(0, self.size["registrations"] - 1 - len(self.deployer_emails)))]
        timings = []
        for email in [self.staff_email, *self.deployer_emails, *extra]:
            _, ms = self.register(email)
            timings.append(ms)
        bare = []
        for i in range(max(3, self.size["registrations"])):
            started = time.perf_counter()
            arc76.arc76_seed(f"bench.bare{i}.{run_id}@example.com", PASSWORD)
            bare.append((time.perf_counter() - started) * 1000)
        self.row("registration (POST auth/register, p50)", median(timings), median(bare), "<= 1.15x", "ms")
        from accounts.models import User

        User.objects.filter(email=self.staff_email).update(is_staff=True, is_superuser=True)
        self.staff = self.login(self.staff_email)
        self.deployers = [self.login(email) for email in self.deployer_emails]

    # --- waiting on the pipeline ---------------------------------------------------------------

    def wait_terminal(self, ids: list[str], timeout: float) -> None:
        from deployments.models import Deployment

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = Deployment.objects.filter(pk__in=ids, status__in=TERMINAL).count()
            if done == len(ids):
                return
            for worker in self.workers:
                if not worker.alive():
                    raise RuntimeError(f"{worker.name} died: {worker.tail()}")
            time.sleep(0.25)
        log(f"timeout: {len(ids) - done} of {len(ids)} deployments not finished after {timeout:.0f} s")

    def wait_evm_accounts(self) -> None:
        from accounts.models import EvmAccount, User

        deadline = time.monotonic() + 180
        users = User.objects.filter(email__in=self.deployer_emails)
        while time.monotonic() < deadline:
            if EvmAccount.objects.filter(user__in=users, chain_id=31337).count() >= len(self.deployer_emails):
                return
            time.sleep(0.25)
        raise RuntimeError("EVM accounts of the deployers were not derived within 180 s")

    def create(self, body: dict[str, Any], standard: str, headers: dict[str, str]) -> str:
        return self.http.json("POST", f"/api/v1/token/{standard}/create", body, headers, expect=202)["id"]

    # --- (a) status read vs bare ------------------------------------------------------------------

    def probe(self) -> None:
        self.start_celery(1)
        self.wait_evm_accounts()
        self.probe_id = self.create(EVM_BODY, "erc20-mintable", self.deployers[0])
        self.wait_terminal([self.probe_id], 120)
        from deployments.models import Deployment

        probe = Deployment.objects.get(pk=self.probe_id)
        if probe.status != "completed":
            raise RuntimeError(f"the probe deployment ended {probe.status}: {probe.error_code} {probe.error_message}")
        self.probe_correlation_id = probe.correlation_id
        self.probe_organization_id = probe.organization_id
        self.probe_request = probe.request

    def status_read(self) -> None:
        n, clients = self.size["requests"], self.size["clients"]
        headers = self.deployers[0]
        status_path = f"/api/v1/token/deployments/{self.probe_id}"
        bare_path = f"/bench/bare/{self.probe_id}"
        load(self.port, lambda i: ("GET", status_path, None, headers), 100, clients)  # warm-up, both
        load(self.port, lambda i: ("GET", bare_path, None, {}), 100, clients)
        runs = []
        for _ in range(self.size["reps"]):
            bare = load(self.port, lambda i: ("GET", bare_path, None, {}), n, clients)
            product = load(self.port, lambda i: ("GET", status_path, None, headers), n, clients)
            if bare.errors or product.errors:
                raise RuntimeError(f"status read errors: bare {bare.errors}, product {product.errors}")
            runs.append((product, bare))
        self.row("GET deployments/{id} throughput", median(p.throughput for p, _ in runs),
                 median(b.throughput for _, b in runs), ">= 0.80", "req/s")
        self.row("GET deployments/{id} p50", median(p.p50 for p, _ in runs), median(b.p50 for _, b in runs), "",
                 "ms")
        self.row("GET deployments/{id} p99", median(p.p99 for p, _ in runs), median(b.p99 for _, b in runs),
                 "<= 25 ms", "ms")
        self.curves["api_cdf"] = {"status": runs[-1][0].samples, "bare": runs[-1][1].samples}

    # --- storage ----------------------------------------------------------------------------------

    @staticmethod
    def storage() -> tuple[int, int]:
        """Rows and bytes (pg_total_relation_size) of the deployments, webhooks and audit tables."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(r"SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                           r" AND (relname LIKE 'deployments\_%' OR relname LIKE 'webhooks\_%'"
                           r" OR relname LIKE 'audit\_%')")
            tables = [row[0] for row in cursor.fetchall()]
            rows = total = 0
            for table in tables:
                cursor.execute(f'SELECT count(*), pg_total_relation_size(%s) FROM "{table}"', [table])
                count, size = cursor.fetchone()
                rows += count
                total += size
        return rows, total

    # --- (b)/(f) EVM through the workers vs a bare web3.py script ------------------------------

    def evm_senders(self) -> dict[str, int]:
        from accounts.models import EvmAccount
        from devchain.anvil import rpc

        addresses = EvmAccount.objects.filter(user__email__in=self.deployer_emails, chain_id=31337) \
            .values_list("address", flat=True)
        return {a: int(rpc(self.anvil.url, "eth_getTransactionCount", [a, "latest"]), 16) for a in addresses}

    def product_burst(self, standard: str, body: dict[str, Any], n: int) -> dict[str, Any]:
        """`n` creates through the server (round robin over the deployers), until all are terminal."""
        from deployments.models import Deployment, DeploymentTransaction

        cpu_before = sum(w.cpu_seconds() for w in self.workers)
        rows_before, bytes_before = self.storage()
        started = time.time()
        ids = [self.create(body, standard, self.deployers[i % len(self.deployers)]) for i in range(n)]
        self.wait_terminal(ids, timeout=120 + n * 2.0)
        cpu = sum(w.cpu_seconds() for w in self.workers) - cpu_before
        rows_after, bytes_after = self.storage()
        finished = list(Deployment.objects.filter(pk__in=ids, status="completed")
                        .values_list("completed_at", flat=True))
        times = sorted(c.timestamp() - started for c in finished if c)
        elapsed = max(times) if times else float("nan")
        txs = list(DeploymentTransaction.objects.filter(deployment_id__in=ids).values_list(
            "deployment_id", "sender", "nonce", "status"))
        return {"ids": ids, "completed": len(finished), "failed": n - len(finished), "elapsed": elapsed,
                "rate": len(finished) / elapsed if times else 0.0, "cpu_per": cpu / max(1, len(finished)),
                "rows_per": (rows_after - rows_before) / n, "bytes_per": (bytes_after - bytes_before) / n,
                "curve": times, "txs": txs}

    def evm_checks(self, burst: dict[str, Any], before: dict[str, int]) -> tuple[float, int]:
        """Contracts per deployment (transactions the senders sent / deployments) and nonce gaps."""
        from devchain.anvil import rpc

        after = self.evm_senders()
        sent = sum(after[a] - before.get(a, 0) for a in after)
        by_sender: dict[str, set[int]] = {}
        for _, sender, nonce, status in burst["txs"]:
            if status == "confirmed" and nonce is not None:
                by_sender.setdefault(sender.lower(), set()).add(int(nonce))
        gaps = sum(max(s) - min(s) + 1 - len(s) for s in by_sender.values())
        queued = int(rpc(self.anvil.url, "txpool_status", [])["queued"], 16)
        return sent / max(1, len(burst["ids"])), gaps + queued

    def evm_bare(self, n: int) -> dict[str, Any]:
        """The same bytecode and constructor arguments, signed and sent by a bare web3.py script."""
        from eth_account import Account
        from web3 import Web3

        from devchain.anvil import fund
        from tokens.chains.evm_artifacts import deploy_data

        account = Account.create()
        fund(self.anvil.url, account.address, 10**20)
        w3 = Web3(Web3.HTTPProvider(self.anvil.url))
        cpu0, started = time.process_time(), time.time()
        data = deploy_data(standard="erc20-mintable", params=self.probe_request, sender=account.address)
        gas = w3.eth.estimate_gas({"from": account.address, "data": data}) * 12 // 10
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        nonce = w3.eth.get_transaction_count(account.address)
        hashes = []
        for i in range(n):
            tx = {"type": 2, "chainId": 31337, "nonce": nonce + i, "gas": gas, "maxFeePerGas": 2 * base_fee + 10**9,
                  "maxPriorityFeePerGas": 10**9, "value": 0, "data": data}
            hashes.append(w3.eth.send_raw_transaction(Account.sign_transaction(tx, account.key).raw_transaction))
        times = []
        for tx_hash in hashes:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.01)
            if receipt["status"] != 1:
                raise RuntimeError("a bare deployment reverted")
            times.append(time.time() - started)
        return {"rate": n / max(times), "cpu_per": (time.process_time() - cpu0) / n, "curve": times}

    def evm(self) -> None:
        n = self.size["evm"]
        for workers in self.size["workers"]:
            self.stop_workers()
            self.start_celery(workers)
            reps = self.size["reps"] if workers == 1 else 1
            bursts, checks = [], []
            for _ in range(reps):
                before = self.evm_senders()
                burst = self.product_burst("erc20-mintable", EVM_BODY, n)
                bursts.append(burst)
                checks.append(self.evm_checks(burst, before))
            first = not hasattr(self, "bare_evm")
            bare = [self.evm_bare(n) for _ in range(reps)] if first else [self.bare_evm]
            rate = median(b["rate"] for b in bursts)
            cpu = median(b["cpu_per"] for b in bursts)
            bare_rate, bare_cpu = median(b["rate"] for b in bare), median(b["cpu_per"] for b in bare)
            self.bare_evm = bare[-1]
            if first:
                self.row(f"{n} erc20-mintable deployments on anvil, end to end "
                         f"({workers} worker{'s' if workers > 1 else ''})", rate, bare_rate,
                         ">= 0.50", "deployments/s")
                self.row("EVM worker CPU per deployment", cpu * 1000, bare_cpu * 1000, "<= 2.0x", "ms CPU")
                self.row("EVM storage rows per deployment", median(b["rows_per"] for b in bursts), None, "<= 12",
                         "rows")
                self.row("EVM storage bytes per deployment", median(b["bytes_per"] for b in bursts), None,
                         "<= 12288", "bytes")
                self.curves["evm_product"], self.curves["evm_bare"] = bursts[-1]["curve"], bare[-1]["curve"]
            else:
                self.row(f"EVM scale-out, {workers} workers: deployments/s", rate, bare_rate, "", "deployments/s")
                self.row(f"EVM scale-out, {workers} workers: CPU per deployment", cpu * 1000, bare_cpu * 1000,
                         "<= 2.0x", "ms CPU")
            self.row(f"EVM scale-out, {workers} workers: failures", sum(b["failed"] for b in bursts), None, "0",
                     "deployments")
            self.row(f"EVM scale-out, {workers} workers: contracts per deployment", max(c[0] for c in checks), None,
                     "1.0", "contracts")
            self.row(f"EVM scale-out, {workers} workers: nonce gaps", sum(c[1] for c in checks), None, "0", "gaps")
            if first and self.profile:
                self.burst_profile("evm", "erc20-mintable", EVM_BODY, n)
        self.stop_workers()

    def burst_profile(self, key: str, standard: str, body: dict[str, Any], n: int) -> None:
        """One more burst (not measured) with the only worker under a CPU profile: where the CPU of the
        "worker CPU per deployment" figure goes, from each task down (deployments/tasks.py `_run`)."""
        path, burst = self.profiled(f"deployments-{key}", lambda: self.product_burst(standard, body, n))
        log(f"profiled {key} burst of {n}: {burst['completed']} completed, worker CPU {burst['cpu_per'] * 1000:.1f} "
            f"ms per deployment with the profiler on; profile {path}")
        print("\n".join(profile_tree(path, root=("deployments/tasks.py", "_run"), share=0.01)), flush=True)

    # --- (c) Algorand ------------------------------------------------------------------------------

    def algo_bare(self, n: int) -> dict[str, Any]:
        from algosdk import account, transaction
        from algosdk.atomic_transaction_composer import AccountTransactionSigner
        from algosdk.v2client.algod import AlgodClient

        client = AlgodClient(self.devnet.token, self.devnet.url)
        key, address = account.generate_account()
        signer = AccountTransactionSigner(key)
        self.devnet.fund(address, 1_000_000 + n * 200_000)
        cpu0, started = time.process_time(), time.time()
        params, txids = None, []
        for i in range(n):
            if i % 100 == 0:
                params = client.suggested_params()
            txn = transaction.AssetConfigTxn(
                sender=address, sp=params, total=1000, default_frozen=False, unit_name="BNA",
                asset_name=f"Bench ASA {i}", manager=address, reserve=address, freeze=address, clawback=address,
                decimals=0, note=uuid.uuid4().bytes)
            txids.append(client.send_transaction(signer.sign_transactions([txn], [0])[0]))
        times = []
        for txid in txids:
            transaction.wait_for_confirmation(client, txid, 20)
            times.append(time.time() - started)
        return {"rate": n / max(times), "cpu_per": (time.process_time() - cpu0) / n, "curve": times}

    def algo(self) -> None:
        from algosdk.v2client.algod import AlgodClient

        from accounts.models import User

        n = self.size["algo"]
        self.start_celery(1)
        client = AlgodClient(self.devnet.token, self.devnet.url)
        addresses = list(User.objects.filter(email__in=self.deployer_emails).values_list("algorand_address",
                                                                                           flat=True))

        def created() -> int:
            return sum(int(client.account_info(a).get("total-created-assets", 0)) for a in addresses)

        bursts, dupes = [], []
        for _ in range(self.size["reps"]):
            before = created()
            burst = self.product_burst("asa-ft", ASA_BODY, n)
            bursts.append(burst)
            dupes.append((created() - before) / n)
        bare = [self.algo_bare(n) for _ in range(self.size["reps"])]
        self.row(f"{n} asa-ft deployments on the devnet (1 worker)", median(b["rate"] for b in bursts),
                 median(b["rate"] for b in bare), ">= 0.80", "deployments/s")
        self.row("Algorand worker CPU per deployment", median(b["cpu_per"] for b in bursts) * 1000,
                 median(b["cpu_per"] for b in bare) * 1000, "<= 2.0x", "ms CPU")
        self.row("Algorand storage rows per deployment", median(b["rows_per"] for b in bursts), None, "<= 12", "rows")
        self.row("Algorand storage bytes per deployment", median(b["bytes_per"] for b in bursts), None, "<= 12288",
                 "bytes")
        self.row("Algorand failures", sum(b["failed"] for b in bursts), None, "0", "deployments")
        self.row("Algorand assets per deployment", max(dupes), None, "1.0", "assets")
        self.curves["algo_product"], self.curves["algo_bare"] = bursts[-1]["curve"], bare[-1]["curve"]
        if self.profile:
            self.burst_profile("algo", "asa-ft", ASA_BODY, n)
        self.stop_workers()

    # --- (h) distribution ---------------------------------------------------------------------------

    def distribution(self) -> None:
        from bench.distribution import Distribution

        Distribution(self).all()
        self.stop_workers()

    # --- (i) allow-list sync ------------------------------------------------------------------------

    def allowlist(self) -> None:
        from bench.allowlist_sync import AllowlistSync

        AllowlistSync(self).all()
        self.stop_workers()

    # --- (e) create under load -----------------------------------------------------------------------

    def create_load(self) -> None:
        """No worker runs: the creates stay queued (their messages are under the run's prefix)."""
        self.stop_celery()
        headers = self.deployers[0]
        idle_n = max(20, self.size["create_per_client"] * 10)

        def request(i: int) -> tuple[str, str, Any, dict[str, str]]:
            return "POST", "/api/v1/token/erc20-mintable/create", EVM_BODY, headers

        idle_runs, busy_runs = [], []
        for _ in range(self.size["reps"]):
            idle_runs.append(load(self.port, request, idle_n, 1, expect=202))
            busy_runs.append(load(self.port, request, 50 * self.size["create_per_client"], 50, expect=202))
        errors = sum(r.errors for r in idle_runs + busy_runs)
        if errors:
            raise RuntimeError(f"{errors} create(s) did not answer 202")
        self.row("POST erc20-mintable/create -> 202 p50, 50 clients", median(r.p50 for r in busy_runs),
                 median(r.p50 for r in idle_runs), "", "ms")
        self.row("POST erc20-mintable/create -> 202 p99, 50 clients", median(r.p99 for r in busy_runs),
                 median(r.p99 for r in idle_runs), "<= 50 ms", "ms")
        self.curves["create_cdf"] = {"50 clients": busy_runs[-1].samples, "idle": idle_runs[-1].samples}

    # --- (g) reads as the tables grow -------------------------------------------------------------

    def admin_cookie(self) -> str:
        """A staff session through both login steps: the password, then a TOTP code computed from the
        staff user's device (the admin requires it, docs/mfa.md)."""
        import requests
        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.models import User

        staff = User.objects.get(email=self.staff_email)
        device = (TOTPDevice.objects.filter(user=staff, confirmed=True).first()
                  or TOTPDevice.objects.create(user=staff, name="bench", confirmed=True))
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # a code of this 30 s step may be used again
        session = requests.Session()
        base = f"http://127.0.0.1:{self.port}"
        session.get(f"{base}/admin/login/")
        response = session.post(f"{base}/admin/login/?next=/admin/", data={
            "username": self.staff_email, "password": PASSWORD, "next": "/admin/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"]}, allow_redirects=False)
        if response.status_code != 302 or "sessionid" not in session.cookies:
            raise RuntimeError(f"admin login failed: {response.status_code}")
        response = session.post(f"{base}/admin/otp/verify/", data={
            "code": str(totp(device.bin_key)).zfill(6), "next": "/admin/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"]}, allow_redirects=False)
        if response.status_code != 302 or response.headers.get("Location") != "/admin/":
            raise RuntimeError(f"admin second factor failed: {response.status_code}")
        return "; ".join(f"{k}={v}" for k, v in session.cookies.items())

    def read_probes(self) -> dict[str, tuple[float | None, int]]:
        n = self.size["probe_requests"]
        user, staff = self.deployers[0], self.staff
        cookie = {"Cookie": self.admin_cookie()}
        created = dt.datetime.now(dt.UTC)
        after = (created - dt.timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%SZ")
        before = (created + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        base = "/api/v1/token/deployments"
        filters = ["?status=completed", "?standard=erc20-mintable", "?network=evm-local",
                   f"?correlation_id={self.probe_correlation_id}", f"?created_after={after}",
                   f"?created_before={before}",
                   f"?status=completed&standard=erc20-mintable&network=evm-local&created_after={after}"
                   f"&created_before={before}"]
        probes = {
            "status": lambda i: ("GET", f"{base}/{self.probe_id}", None, user),
            "list, every filter": lambda i: ("GET", base + filters[i % len(filters)], None, user),
            "support lookup by correlation id": lambda i: (
                "GET", f"/api/v1/support/deployments?correlation_id={self.probe_correlation_id}", None, staff),
            "admin changelist search": lambda i: (
                "GET", f"/admin/deployments/deployment/?q={self.probe_correlation_id}", None, cookie),
            # The admin index shows the dashboard's kept build (rebuilt by beat; the build is timed apart).
            "admin dashboard": lambda i: ("GET", "/admin/", None, cookie),
        }
        out = {}
        for name, make in probes.items():
            load(self.port, make, 1, 1)  # warm-up
            result = load(self.port, make, n, 1, budget_seconds=self.size["probe_budget"], min_samples=3)
            if result.errors:  # e.g. the server's 120 s timeout: no figure rather than a fast-looking one
                log(f"{name}: {result.errors} of {len(result.samples)} requests did not answer 200")
            out[name] = (None if result.errors else result.p99, len(result.samples))
        return out

    def seed(self, total: int, organizations: int) -> None:
        """Bulk insert (INSERT ... SELECT generate_series) up to `total` extra deployments over
        `organizations` organizations (the probe's among them), copies of the probe row with new ids,
        correlation ids, statuses, standards, networks and creation times."""
        from django.db import connection

        from accounts.models import Organization
        from deployments.models import Deployment

        org_table, dep_table = Organization._meta.db_table, Deployment._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{org_table}"')
            have = cursor.fetchone()[0]
            if have < organizations:
                cols = [f.column for f in Organization._meta.concrete_fields]
                values = ["gen_random_uuid()" if c == "id" else "'bench seed org ' || g" if c == "name" else c
                          for c in cols]
                cursor.execute(f'INSERT INTO "{org_table}" ({", ".join(cols)}) SELECT {", ".join(values)} '
                               f'FROM "{org_table}" t, generate_series(1, %s) g WHERE t.id = %s',
                               [organizations - have, self.probe_organization_id])
            cursor.execute(f'SELECT id FROM "{org_table}" ORDER BY (id = %s) DESC, id LIMIT %s',
                           [self.probe_organization_id, organizations])
            org_ids = [str(r[0]) for r in cursor.fetchall()]
            self.seeded = getattr(self, "seeded", 0)
            missing = total - self.seeded
            if missing <= 0:
                return
            overrides = {
                "id": "gen_random_uuid()",
                "organization_id": f"(%s::uuid[])[1 + (g %% {len(org_ids)})]",
                "correlation_id": "md5(g::text || clock_timestamp()::text)",
                "status": "(ARRAY['completed','failed','queued','pending','cancelled'])[1 + (g %% 5)]",
                "standard": "(ARRAY['erc20-mintable','erc20-preminted','asa-ft'])[1 + (g %% 3)]",
                "network": "(ARRAY['evm-local','base-sepolia','algorand-localnet'])[1 + (g %% 3)]",
                "created_at": "now() - make_interval(secs => g)",
                "idempotency_key": "NULL",
            }
            cols = [f.column for f in Deployment._meta.concrete_fields]
            values = [overrides.get(c, f"t.{c}") for c in cols]
            for start in range(self.seeded, total, 100_000):
                stop = min(total, start + 100_000)
                cursor.execute(f'INSERT INTO "{dep_table}" ({", ".join(cols)}) SELECT {", ".join(values)} '
                               f'FROM "{dep_table}" t, generate_series(%s, %s) g WHERE t.id = %s',
                               [org_ids, start + 1, stop, self.probe_id])
            cursor.execute(f'ANALYZE "{dep_table}"')
            self.seeded = total

    def growth_point(self, step: int) -> None:
        from deployments.models import Deployment

        if step:
            log(f"seeding {step:,} deployments over {self.size['organizations']} organizations")
            self.seed(step, self.size["organizations"])
        rows = Deployment.objects.count()
        figures = [self.read_probes() for _ in range(self.size["reps"])]
        point = {"rows": rows, "p99": {k: None if any(f[k][0] is None for f in figures) else
                                       median(f[k][0] for f in figures) for k in figures[0]},
                 "samples": {k: sum(f[k][1] for f in figures) for k in figures[0]},
                 "dashboard_build_ms": self.dashboard_build_ms()}
        self.curves.setdefault("growth", []).append(point)
        log(f"table of {rows:,} deployments: " + ", ".join(
            f"{k} p99 {format_value(v, 'ms')} ms ({point['samples'][k]} requests)" for k, v in point["p99"].items()))

    def dashboard_build_ms(self) -> float:
        """The staff dashboard's build (beat's job, backoffice/dashboard_cache.py), in this process:
        the median of 3 after one warm-up."""
        from backoffice.dashboard import dashboard_build

        dashboard_build()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            dashboard_build()
            times.append((time.perf_counter() - started) * 1000)
        return median(times)

    def growth_empty(self) -> None:
        """(g) at the (nearly) empty table: the probe deployment and a thousand more in the probe's
        organization only, so that every list filter answers a full page (50) here as at every later
        size; with the probe alone the list's figure compared a one-row page with full ones."""
        log(f"seeding {PROBE_ORGANIZATION_ROWS:,} deployments in the probe's organization (full list pages)")
        self.seed(PROBE_ORGANIZATION_ROWS, 1)
        self.growth_point(0)

    def table_growth(self) -> None:
        for step in self.size["seed_steps"][1:]:
            self.growth_point(step)
        points = self.curves["growth"]
        empty, full = points[0], points[-1]
        for name, p99 in full["p99"].items():
            self.row(f"{name} p99 at {full['rows']:,} rows (baseline {empty['rows']:,})", p99, empty["p99"][name],
                     "<= 1.5x", "ms")
        self.row(f"dashboard build (beat) at {full['rows']:,} rows", full["dashboard_build_ms"],
                 empty["dashboard_build_ms"], "", "ms")

    # --- output ---------------------------------------------------------------------------------

    def machine(self) -> dict[str, Any]:
        return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "size": self.size_name,
                "repetitions": self.size["reps"], "commit": self.commit,
                "load_average": os.getloadavg()}


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("deployments", "gaps", "recipients", "entries"):
        return f"{value:.0f}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def print_table(rows: list[dict[str, Any]], machine: dict[str, Any]) -> None:
    print(f"\n{machine['size']} size ({machine['repetitions']} repetition(s), median), {machine['date']}, "
          f"{machine['cpu_count']} CPUs, Python {machine['python']}, "
          f"load average at the end {machine['load_average'][0]:.2f}")
    print("| what | value | bare baseline (same run) | ratio | target | unit |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"| {r['name']} | {format_value(r['value'], r['unit'])} | {format_value(r['baseline'], r['unit'])} | "
              f"{ratio} | {r['target']} | {r['unit']} |")


def write_plots(curves: dict[str, Any], out: Path) -> list[Path]:
    extra = os.environ.get("BENCH_MPL_PATH")  # a matplotlib outside the venv, appended (never shadows it)
    if extra and extra not in sys.path:
        sys.path.append(extra)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plots skipped: matplotlib is not installed (requirements.in does not pin it yet)")
        return []
    written: list[Path] = []

    def save(fig: Any, axes: list[Any], name: str) -> None:
        for ax in axes:
            ax.legend()
            ax.grid(alpha=0.3)
        written.append(out / name)
        fig.tight_layout()
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)

    def throughput_curve(ax: Any, times: list[float], label: str) -> None:
        if times:
            xs = list(range(1, len(times) + 1))
            ax.plot(xs, [x / t if t > 0 else 0 for x, t in zip(xs, sorted(times), strict=True)], label=label)

    throughput_keys = ("evm_product", "evm_bare", "algo_product", "algo_bare")
    if any(curves.get(key) for key in throughput_keys):  # a partial run draws only the figures it ran
        fig, ax = plt.subplots(figsize=(7, 4))
        for key, label in zip(throughput_keys, ("EVM product (1 worker)", "EVM bare web3.py",
                                                "Algorand product (1 worker)", "Algorand bare algosdk"), strict=True):
            throughput_curve(ax, curves.get(key, []), label)
        ax.set(xlabel="deployments completed", ylabel="deployments / s (cumulative)", yscale="log",
               title="Deployment throughput against the number of deployments")
        save(fig, [ax], "throughput.png")

    if curves.get("api_cdf") or curves.get("create_cdf"):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, key, title in ((axes[0], "api_cdf", "GET deployments/{id} vs bare view"),
                               (axes[1], "create_cdf", "POST create -> 202")):
            for label, samples in curves.get(key, {}).items():
                ordered = sorted(samples)
                ax.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=label)
            ax.set(xlabel="latency (ms)", ylabel="fraction of requests", title=title, xscale="log")
        save(fig, list(axes), "latency_cdf.png")

    points = curves.get("growth", [])
    if points:
        fig, ax = plt.subplots(figsize=(7, 4))
        for name in points[0]["p99"]:
            shown = [p for p in points if p["p99"][name] is not None]
            ax.plot([max(1, p["rows"]) for p in shown], [p["p99"][name] for p in shown], marker="o", label=name)
        ax.set(xlabel="deployments in the table", ylabel="p99 (ms)", xscale="log", yscale="log",
               title="p99 against table size")
        save(fig, [ax], "p99_vs_table_size.png")
    from bench.distribution import plot

    plot(plt, curves.get("distribution"), save)
    from bench.allowlist_sync import plot as allowlist_plot

    allowlist_plot(plt, curves.get("allowlist"), save)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("BENCH_SIZE") or "full")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("BENCH_RESULTS_DIR", RESULTS_DIR)))
    parser.add_argument("--only", default="", help=f"comma-separated figures, of: {', '.join(FIGURES)}")
    parser.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS") or 0),
                        help="repetitions instead of the size's (BENCH_REPS); said in the results")
    parser.add_argument("--replot", action="store_true", help="only redraw the plots from OUT/curves.json")
    parser.add_argument("--workers", default=os.environ.get("BENCH_WORKERS", ""),
                        help="worker-process counts of the scale-out figure instead of 1,2,4 (BENCH_WORKERS)")
    parser.add_argument("--profile", action="store_true", default=bool(os.environ.get("BENCH_PROFILE")),
                        help="evm, algo, distribution: one more burst / batch per chain with the worker under "
                        "cProfile, its call tree printed (BENCH_PROFILE)")
    args = parser.parse_args(argv)
    if args.replot:
        for path in write_plots(json.loads((args.out / "curves.json").read_text()), args.out):
            log(f"plot: {path}")
        return 0
    only = [f for f in args.only.split(",") if f]
    unknown = set(only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(sorted(unknown))}")

    def on_signal(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(128 + signum)  # unwinds the ExitStack: processes stopped, database and keys removed

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with contextlib.ExitStack() as stack:
        run = Run(args.size, stack)
        if args.reps:
            run.size = {**run.size, "reps": args.reps}
        if args.workers:
            run.size = {**run.size, "workers": [int(n) for n in args.workers.split(",")]}
        run.profile = args.profile
        log(f"size {args.size}: {run.size}")
        run.setup()
        steps = [("registration", run.users_setup, None), ("probe deployment", run.probe, None),
                 ("reads at the empty table", run.growth_empty, "growth"),
                 ("status read vs bare view", run.status_read, "status"), ("EVM deployments", run.evm, "evm"),
                 ("Algorand deployments", run.algo, "algo"),
                 ("distribution (batch_transfer)", run.distribution, "distribution"),
                 ("allow-list sync (allowlist/bulk)", run.allowlist, "allowlist"),
                 ("create under 50 clients", run.create_load, "create"),
                 ("reads as the table grows", run.table_growth, "growth")]
        for name, step, figure in steps:
            if figure is None or not only or figure in only:
                log(f"{name} ...")
                step()
        run.stop_celery()
        machine = run.machine()
        machine["workers"] = run.size["workers"]
        args.out.mkdir(parents=True, exist_ok=True)
        machine["figures"] = only or list(FIGURES)
        result = args.out / ("partial.json" if only else "latest.json")  # a partial run never replaces latest
        result.write_text(json.dumps({"machine": machine, "rows": run.rows}, indent=2) + "\n")
        (args.out / "curves.json").write_text(json.dumps(run.curves) + "\n")  # --replot redraws from these
        print_table(run.rows, machine)
        for path in write_plots(run.curves, args.out):
            log(f"plot: {path}")
        log(f"results: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
