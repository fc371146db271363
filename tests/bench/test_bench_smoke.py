"""`make bench BENCH_SIZE=small` in a subprocess (issue 13: the scripts cannot rot). Asserts that it
runs, prints every row, writes bench/results-shaped JSON, and leaves no database and no Redis key
behind. Never asserts how fast anything is."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from bench.isolation import KEY_PREFIX_STEM, REDIS_URL, bench_databases

pytestmark = [pytest.mark.slow, pytest.mark.chain]

ROOT = Path(__file__).resolve().parent.parent.parent
FIELDS = {"name", "value", "baseline", "ratio", "target", "unit"}
EXPECTED_ROWS = [
    "registration (POST auth/register, p50)",
    "GET deployments/{id} throughput", "GET deployments/{id} p50", "GET deployments/{id} p99",
    "erc20-mintable deployments on anvil, end to end (1 worker)", "EVM worker CPU per deployment",
    "EVM storage rows per deployment", "EVM storage bytes per deployment",
    *[f"EVM scale-out, {n} workers: {what}" for n in (1, 2, 4) for what in ("failures", "contracts per deployment",
                                                                           "nonce gaps")],
    "EVM scale-out, 2 workers: deployments/s", "EVM scale-out, 4 workers: CPU per deployment",
    "asa-ft deployments on the devnet (1 worker)", "Algorand worker CPU per deployment",
    "Algorand storage rows per deployment", "Algorand storage bytes per deployment",
    "batch_transfer of 100 recipients on anvil, POST -> completed (1 worker)",
    "batch_transfer of 100 recipients on the devnet, POST -> completed (1 worker)",
    *[f"{chain} distribution: {what}" for chain in ("EVM", "Algorand")
      for what in ("worker + server CPU per transfer", "recipients paid")],
    "allowlist bulk of 100 entries, erc20-security on anvil, POST -> in sync (1 worker)",
    "allowlist bulk of 100 entries, arc1400-mintable on the devnet, POST -> in sync (1 worker)",
    *[f"{chain} allowlist sync: {what}" for chain in ("EVM", "Algorand")
      for what in ("time to sync 100 entries", "bulk POST -> 200 (registry write)", "worker + server CPU per entry",
                   "entries in sync on chain")],
    "POST erc20-mintable/create -> 202 p50, 50 clients", "POST erc20-mintable/create -> 202 p99, 50 clients",
    "status p99 at", "list, every filter p99 at", "support lookup by correlation id p99 at",
    "admin changelist search p99 at", "admin dashboard p99 at", "dashboard build (beat) at",
]


def bench_keys() -> set[bytes]:
    return set(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{KEY_PREFIX_STEM}*", count=1000))


def test_small_benchmark_runs_prints_every_row_and_leaves_nothing_behind(tmp_path):
    databases_before, keys_before = bench_databases(), bench_keys()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "bench.run", "--size", "small", "--out", str(tmp_path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.terminate()  # the run removes its database and keys on SIGTERM
            proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-5000:]

    database = re.search(r"database: (biatec_bench_\w+)", output).group(1)
    prefix = re.search(r"redis prefix: (\S+)", output).group(1)
    assert database.startswith(f"biatec_bench_{proc.pid}_") and prefix.startswith(f"{KEY_PREFIX_STEM}{proc.pid}-")
    # Nothing of this run is left (other runs on the machine may start or end meanwhile: only the
    # names carrying this run's pid are compared).
    assert not {d for d in bench_databases() if d.startswith(f"biatec_bench_{proc.pid}_")}
    assert not {d for d in databases_before if d.startswith(f"biatec_bench_{proc.pid}_")}
    assert not list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*"))
    assert not {k for k in bench_keys() - keys_before if k.startswith(f"{KEY_PREFIX_STEM}{proc.pid}-".encode())}

    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["machine"]["cpu_count"] == os.cpu_count()
    assert {"python", "date"} <= set(data["machine"])
    for row in data["rows"]:
        assert FIELDS <= set(row), row
        assert row["name"] in output
    names = [row["name"] for row in data["rows"]]
    for expected in EXPECTED_ROWS:
        assert any(expected in name for name in names), expected
        assert expected in output
    for row in data["rows"]:  # every transfer of the distribution figure landed, product and bare alike
        if row["name"].endswith("distribution: recipients paid"):
            assert row["value"] == row["baseline"] == 100, row
        if row["name"].endswith("allowlist sync: entries in sync on chain"):  # read from the chain, both sides
            assert row["value"] == row["baseline"] == 100, row
    assert ("plots skipped: matplotlib is not installed" in output) or all(
        (tmp_path / name).exists() for name in ("throughput.png", "distribution.png"))


def test_a_run_stopped_midway_still_removes_its_database_and_keys():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "bench.run", "--size", "small", "--only", "status"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "registration ..." in line:  # database migrated, server, chain nodes and broker keys in use
                break
        started = "".join(lines)
        assert "registration ..." in started, started + (proc.stdout.read() if proc.poll() is not None else "")
        database = re.search(r"database: (biatec_bench_\w+)", started).group(1)
        prefix = re.search(r"redis prefix: (\S+)", started).group(1)
        assert database in bench_databases(), started
        proc.terminate()
        output = "".join(lines) + proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, output[-3000:]
    assert "cleanup: database" in output, output[-3000:]
    assert database not in bench_databases()
    assert not list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*"))
