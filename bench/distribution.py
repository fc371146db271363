"""Issue 18's distribution figure: one `batch_transfer` of N recipients (full 1,000, small 100) through
the product, POST -> `completed`, against a bare script sending the same transfers of the same token
in the same run (fresh recipients on each side, each repetition).

- anvil: the product signs one transfer per recipient with consecutive nonces (tokens/chains/
  evm_operations.py); the bare web3.py script signs and sends N `transfer` calls with consecutive
  nonces (one gas estimate, +20 %), then waits for every receipt.
- devnet: the product sends atomic groups of 16 asset transfers (deployments/adapters/
  algorand_operations.py); the bare py-algorand-sdk script builds the same groups of 16, sends them
  all, then waits for each group's confirmation.

Outside the timed part: both tokens are deployed through the API, the bare script's holder gets its
tokens from the product (a `transfer` operation: the product's nonce sequence stays its own; the
bare holder is a key of its own, funded by the local faucet), and every ASA recipient, the
product's and the bare script's alike, is funded and opted in beforehand (groups of 8 payment +
opt-in pairs from a setup account).

Rows: throughput (transfers/s, medians; the ratio is the median of each repetition's product / bare,
target >= 0.80), worker + server CPU per transfer, recipients paid (read back with web3.py / algosdk,
not through the product). Curves: transfers landed against time, and the product's state changes,
for OUT/distribution.png.
`--profile` adds one more batch per chain with the worker under cProfile (not measured) and prints
where the worker's time goes.
"""
from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from bench.profiles import profile_tree

if TYPE_CHECKING:
    from bench.run import Run

EVM_TOKEN = {"network": "evm-local", "name": "Bench Distribution", "symbol": "BDST", "decimals": 0,
             "initial_supply": "1000000000", "cap": "2000000000"}
ASA_TOKEN = {"network": "algorand-localnet", "name": "Bench Distribution ASA", "unit_name": "BDA",
             "total": "1000000000", "decimals": 0}
ASA_GROUP = 16
RECIPIENT_MICROALGOS = 202_000
"""Account minimum 0.1 + one asset 0.1 + the opt-in fee, with 1,000 microAlgos to spare."""
FEE = 1000
TERMINAL = ("completed", "failed", "cancelled")
PHASES = ("submitted", "pending", "confirmed", "indexed", "completed")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def amounts(n: int) -> list[int]:
    return [1 + i % 10 for i in range(n)]


class Distribution:
    """One distribution figure of a run: the tokens, the bare holders, the measurements."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.n = int(run.size["distribution"])
        self.reps = int(run.size["reps"])
        self.headers = run.deployers[0]
        self.curves: dict[str, Any] = {}

    # --- helpers ----------------------------------------------------------------------------------

    def cpu(self) -> float:
        return sum(w.cpu_seconds() for w in self.run.workers) + self.run.server.cpu_seconds()

    def wait_operation(self, operation_id: str, timeout: float) -> str:
        from deployments.models import Operation

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = Operation.objects.filter(pk=operation_id).values_list("status", flat=True).first()
            if status in TERMINAL:
                return str(status)
            for worker in self.run.workers:
                if not worker.alive():
                    raise RuntimeError(f"{worker.name} died: {worker.tail()}")
            time.sleep(0.05)
        log(f"timeout: operation {operation_id} not finished after {timeout:.0f} s")
        return "timeout"

    def operate(self, token_id: str, kind: str, body: dict[str, Any]) -> str:
        path = f"/api/v1/tokens/{token_id}/operations/{kind}"
        return str(self.run.http.json("POST", path, body, self.headers, expect=202)["id"])

    def operate_and_wait(self, token_id: str, kind: str, body: dict[str, Any]) -> None:
        from deployments.models import Operation

        operation_id = self.operate(token_id, kind, body)
        if self.wait_operation(operation_id, 300) != "completed":
            op = Operation.objects.get(pk=operation_id)
            raise RuntimeError(f"setup {kind} ended {op.status}: {op.error_code} {op.error_message}")

    def deploy(self, standard: str, body: dict[str, Any]) -> Any:
        from deployments.models import Deployment, Token

        deployment_id = self.run.create(body, standard, self.headers)
        self.run.wait_terminal([deployment_id], 180)
        deployment = Deployment.objects.get(pk=deployment_id)
        if deployment.status != "completed":
            raise RuntimeError(f"the {standard} token ended {deployment.status}: {deployment.error_code} "
                               f"{deployment.error_message}")
        return Token.objects.get(deployment_id=deployment_id)

    # --- the product ------------------------------------------------------------------------------

    def product(self, token: Any, recipients: list[str], per_part: int) -> dict[str, Any]:
        """POST batch_transfer, then wait for a terminal state; the end is the `completed` row's time."""

        body = {"transfers": [{"to": to, "amount": str(a)} for to, a in zip(recipients, amounts(self.n),
                                                                           strict=True)]}
        cpu0, started = self.cpu(), time.time()
        operation_id = self.operate(str(token.pk), "batch_transfer", body)
        return self.followed(operation_id, started=started, cpu0=cpu0, post_seconds=time.time() - started,
                             per_part=per_part, n=self.n)

    def followed(self, operation_id: str, *, started: float, cpu0: float, post_seconds: float, per_part: int,
                 n: int) -> dict[str, Any]:
        """After the POST: wait for the operation's terminal state; its phases, the items landed over
        time (`per_part` per confirmed part), CPU per item, and the time and rate to `completed`."""
        from deployments.models import Operation, OperationEvent, OperationTransaction

        status = self.wait_operation(operation_id, 120 + 2.0 * n)
        cpu = self.cpu() - cpu0
        events = list(OperationEvent.objects.filter(operation_id=operation_id).order_by("id")
                      .values_list("to_status", "at"))
        phases = {to: at.timestamp() - started for to, at in events if to in PHASES}
        landed = sorted(
            (updated.timestamp() - started, min(per_part, n - part * per_part))
            for updated, part in OperationTransaction.objects.filter(operation_id=operation_id, status="confirmed")
            .values_list("updated_at", "part"))
        out: dict[str, Any] = {"id": operation_id, "status": status, "post_seconds": post_seconds, "phases": phases,
                               "curve": [t for t, count in landed for _ in range(count)], "cpu_per": cpu / n,
                               "parts": len(landed)}
        if status == "completed":
            out["seconds"] = phases["completed"]
            out["rate"] = n / out["seconds"]
        else:
            op = Operation.objects.get(pk=operation_id)
            log(f"the product's {op.kind} ended {status}: {op.error_code} {op.error_message}")
            out["seconds"], out["rate"] = None, None
        return out

    # --- anvil --------------------------------------------------------------------------------------

    def evm_recipients(self) -> list[str]:
        from eth_utils import to_checksum_address

        return [to_checksum_address("0x" + secrets.token_hex(20)) for _ in range(self.n)]

    def evm_setup(self) -> dict[str, Any]:
        from eth_account import Account
        from web3 import Web3

        from devchain.anvil import fund
        from tokens.chains.evm_artifacts import load_artifact

        token = self.deploy("erc20-mintable", EVM_TOKEN)
        holder = Account.create()
        fund(self.run.anvil.url, holder.address, 10**21)
        self.operate_and_wait(str(token.pk), "transfer",
                              {"to": holder.address, "amount": str(sum(amounts(self.n)) * (self.reps + 1))})
        w3 = Web3(Web3.HTTPProvider(self.run.anvil.url))
        contract = w3.eth.contract(address=Web3.to_checksum_address(token.contract_address),
                                   abi=load_artifact("erc20-mintable").abi)
        return {"token": token, "holder": holder, "w3": w3, "contract": contract}

    def evm_bare(self, chain: dict[str, Any], recipients: list[str]) -> dict[str, Any]:
        """Sign and send N transfers with consecutive nonces, then wait for every receipt."""
        from eth_account import Account

        w3, contract, holder = chain["w3"], chain["contract"], chain["holder"]
        cpu0, started = time.process_time(), time.time()
        datas = [contract.encode_abi("transfer", args=[to, a]) for to, a in zip(recipients, amounts(self.n),
                                                                                 strict=True)]
        gas = w3.eth.estimate_gas({"from": holder.address, "to": contract.address, "data": datas[0]}) * 12 // 10
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        nonce = w3.eth.get_transaction_count(holder.address)
        hashes = []
        for i, data in enumerate(datas):
            tx = {"type": 2, "chainId": 31337, "nonce": nonce + i, "gas": gas, "to": contract.address, "value": 0,
                  "maxFeePerGas": 2 * base_fee + 10**9, "maxPriorityFeePerGas": 10**9, "data": data}
            hashes.append(w3.eth.send_raw_transaction(Account.sign_transaction(tx, holder.key).raw_transaction))
        sent = time.time() - started
        curve = []
        for tx_hash in hashes:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.01)
            if receipt["status"] != 1:
                raise RuntimeError("a bare transfer reverted")
            curve.append(time.time() - started)
        seconds = max(curve)
        return {"seconds": seconds, "rate": self.n / seconds, "cpu_per": (time.process_time() - cpu0) / self.n,
                "curve": curve, "phases": {"signed and sent": sent, "all receipts": seconds}}

    def evm_paid(self, chain: dict[str, Any], recipients: list[str]) -> int:
        """Recipients holding exactly their amount (balanceOf in JSON-RPC batches of 200)."""
        import requests

        contract, expected, paid = chain["contract"], amounts(self.n), 0
        for start in range(0, len(recipients), 200):
            batch: list[Any] = [{"jsonrpc": "2.0", "id": i, "method": "eth_call",
                      "params": [{"to": contract.address, "data": contract.encode_abi("balanceOf", args=[to])},
                                 "latest"]} for i, to in enumerate(recipients[start:start + 200], start)]
            for answer in requests.post(self.run.anvil.url, json=batch, timeout=60).json():
                paid += int(answer["result"], 16) == expected[int(answer["id"])]
        return paid

    # --- devnet -------------------------------------------------------------------------------------

    def algod(self) -> Any:
        from algosdk.v2client.algod import AlgodClient

        return AlgodClient(self.run.devnet.token, self.run.devnet.url)

    def algo_setup(self) -> dict[str, Any]:
        from algosdk import account, transaction

        token = self.deploy("asa-ft", ASA_TOKEN)
        client = self.algod()
        key, holder = account.generate_account()
        self.run.devnet.fund(holder, 1_000_000 + (self.reps + 1) * (self.n // ASA_GROUP + 1) * ASA_GROUP * FEE)
        opt_in = transaction.AssetOptInTxn(holder, client.suggested_params(), int(token.asset_id))
        transaction.wait_for_confirmation(client, client.send_transaction(opt_in.sign(key)), 20)
        self.operate_and_wait(str(token.pk), "transfer",
                              {"to": holder, "amount": str(sum(amounts(self.n)) * (self.reps + 1))})
        funder_key, funder = account.generate_account()
        self.run.devnet.fund(funder, 1_000_000 + 2 * (self.reps + 1) * self.n * (RECIPIENT_MICROALGOS + FEE))
        return {"token": token, "asset_id": int(token.asset_id), "client": client, "holder": holder, "key": key,
                "funder": funder, "funder_key": funder_key}

    def algo_recipients(self, chain: dict[str, Any]) -> list[str]:
        """N fresh accounts, funded and opted in (groups of 8 payment + opt-in pairs): outside the timing."""
        from algosdk import account, transaction

        client, funder, asset_id = chain["client"], chain["funder"], chain["asset_id"]
        accounts = [account.generate_account() for _ in range(self.n)]
        sp, last = client.suggested_params(), ""
        for start in range(0, self.n, ASA_GROUP // 2):
            pairs = accounts[start:start + ASA_GROUP // 2]
            txns: list[Any] = []
            for _, address in pairs:
                txns += [transaction.PaymentTxn(funder, sp, address, RECIPIENT_MICROALGOS),
                         transaction.AssetOptInTxn(address, sp, asset_id)]
            transaction.assign_group_id(txns)
            signed = []
            for i, (key, _) in enumerate(pairs):
                signed += [txns[2 * i].sign(chain["funder_key"]), txns[2 * i + 1].sign(key)]
            client.send_transactions(signed)
            last = txns[-1].get_txid()
        transaction.wait_for_confirmation(client, last, 20)
        return [address for _, address in accounts]

    def algo_bare(self, chain: dict[str, Any], recipients: list[str]) -> dict[str, Any]:
        """The same groups of 16 asset transfers: build, sign, send them all, then wait for each."""
        from algosdk import transaction

        client, holder, key, asset_id = chain["client"], chain["holder"], chain["key"], chain["asset_id"]
        pairs = list(zip(recipients, amounts(self.n), strict=True))
        cpu0, started = time.process_time(), time.time()
        sp = client.suggested_params()
        groups = []
        for start in range(0, self.n, ASA_GROUP):
            txns = [transaction.AssetTransferTxn(holder, sp, to, a, asset_id)
                    for to, a in pairs[start:start + ASA_GROUP]]
            transaction.assign_group_id(txns)
            client.send_transactions([t.sign(key) for t in txns])
            groups.append((txns[-1].get_txid(), len(txns)))
        sent = time.time() - started
        curve: list[float] = []
        for txid, count in groups:
            transaction.wait_for_confirmation(client, txid, 20)
            curve += [time.time() - started] * count
        seconds = max(curve)
        return {"seconds": seconds, "rate": self.n / seconds, "cpu_per": (time.process_time() - cpu0) / self.n,
                "curve": curve, "phases": {"signed and sent": sent, "all confirmed": seconds}}

    def algo_paid(self, chain: dict[str, Any], recipients: list[str]) -> int:
        client, expected, paid = chain["client"], amounts(self.n), 0
        for to, amount in zip(recipients, expected, strict=True):
            holding = client.account_asset_info(to, chain["asset_id"]).get("asset-holding") or {}
            paid += int(holding.get("amount", 0)) == amount
        return paid

    # --- the figure -----------------------------------------------------------------------------------

    def measure(self, key: str, label: str, chain: dict[str, Any], per_part: int, recipients: Any, bare: Any,
                paid: Any) -> None:
        from bench.harness import median

        products, bares, paid_product, paid_bare = [], [], [], []
        for rep in range(self.reps):
            product_to, bare_to = recipients(), recipients()
            if rep % 2 == 0:  # alternate who goes first: a node that slows as its chain grows favours neither
                products.append(self.product(chain["token"], product_to, per_part))
                bares.append(bare(chain, bare_to))
            else:
                bares.append(bare(chain, bare_to))
                products.append(self.product(chain["token"], product_to, per_part))
            paid_product.append(paid(chain, product_to))
            paid_bare.append(paid(chain, bare_to))
            p, b = products[-1], bares[-1]
            pair = None if p["rate"] is None else p["rate"] / b["rate"]
            log(f"{label}, repetition {rep + 1}: ratio {'-' if pair is None else f'{pair:.2f}'}, "
                f"product {p['seconds'] or float('nan'):.2f} s "
                f"(POST {p['post_seconds']:.2f} s, " + ", ".join(f"{k} at {v:.2f} s" for k, v in p["phases"].items())
                + f"), bare {b['seconds']:.2f} s (" + ", ".join(f"{k} at {v:.2f} s" for k, v in b["phases"].items())
                + ")")
        done = [p for p in products if p["rate"] is not None]
        rate = median(p["rate"] for p in done) if done else None
        bare_rate = median(b["rate"] for b in bares)
        # The ratio is the median of each repetition's own ratio (product and bare on the same chain state,
        # back to back), not of the two medians: the devnet and anvil slow down as their chains grow
        # over the repetitions, which would pair a fast product run with a slow bare one.
        pairs = [None if p["rate"] is None else p["rate"] / b["rate"] for p, b in zip(products, bares, strict=True)]
        paired = [r for r in pairs if r is not None]
        ratio = median(paired) if paired else None  # a failed batch shows in "recipients paid"
        # the curves drawn are those of the repetition with the median ratio (the last one if none completed)
        shown = sorted((i for i, r in enumerate(pairs) if r is not None), key=lambda i: pairs[i] or 0.0)
        rep = shown[len(shown) // 2] if shown else len(products) - 1
        self.run.row(f"batch_transfer of {self.n} recipients on {label}, POST -> completed (1 worker)", rate,
                     bare_rate, ">= 0.80", "transfers/s", ratio=ratio)
        log(f"{label}: product / bare throughput = {'-' if ratio is None else f'{ratio:.2f}'} (target >= 0.80)")
        what = "EVM" if key == "evm" else "Algorand"
        self.run.row(f"{what} distribution: worker + server CPU per transfer",
                     median(p["cpu_per"] for p in products) * 1000, median(b["cpu_per"] for b in bares) * 1000, "",
                     "ms CPU")
        self.run.row(f"{what} distribution: recipients paid",
                     min(paid_product), min(paid_bare), f"{self.n}", "recipients")
        last, last_bare = products[rep], bares[rep]
        self.curves[key] = {"label": label, "n": self.n, "ratio": ratio, "repetition": rep + 1,
                            "repetitions": len(products),
                            "product": {k: last[k] for k in ("seconds", "post_seconds", "phases", "curve")},
                            "bare": {k: last_bare[k] for k in ("seconds", "phases", "curve")}}
        if self.run.profile:
            self.profile(key, chain, per_part, recipients)

    def profile(self, key: str, chain: dict[str, Any], per_part: int, recipients: Any) -> None:
        """One more batch (not measured) with the only worker under cProfile; prints where the worker's
        time went (wall clock: waits on the node and the database included), from `job_advance` down."""
        path, result = self.run.profiled(f"distribution-{key}",
                                         lambda: self.product(chain["token"], recipients(), per_part), wall=True)
        log(f"profiled {key} batch of {self.n}: {result['seconds'] or float('nan'):.2f} s POST -> completed under "
            f"cProfile (POST {result['post_seconds']:.2f} s); profile {path}")
        print("\n".join(profile_tree(path)), flush=True)

    def all(self) -> None:
        self.run.start_celery(1)
        evm = self.evm_setup()
        self.measure("evm", "anvil", evm, 1, self.evm_recipients, self.evm_bare, self.evm_paid)
        algo = self.algo_setup()
        self.measure("algo", "the devnet", algo, ASA_GROUP, lambda: self.algo_recipients(algo), self.algo_bare,
                     self.algo_paid)
        self.run.curves["distribution"] = self.curves


def plot(plt: Any, data: dict[str, Any] | None, save: Any) -> None:
    """distribution.png: transfers confirmed against time, product and bare, per chain, with the
    product's state changes (submitted, pending, ... completed) as dotted lines."""
    if not data:
        return
    keys = [k for k in ("evm", "algo") if k in data]
    fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        figure = data[key]
        for side, name in (("product", "product (rows marked confirmed)"), ("bare", "bare script (receipts seen)")):
            curve = sorted(figure[side]["curve"])
            if curve:
                ax.step([0.0, *curve], list(range(len(curve) + 1)), where="post", label=name)
        for i, (phase, at) in enumerate(figure["product"]["phases"].items()):
            ax.axvline(at, color="grey", linestyle=":", linewidth=0.8)
            # staggered heights: the last phases are often a few ms apart
            ax.annotate(phase, (at, figure["n"] * (1 - 0.22 * (i % 3))), rotation=90, fontsize=7, va="top",
                        ha="right", color="grey")
        ratio = "-" if figure["ratio"] is None else f"{figure['ratio']:.2f}"
        title = f"{figure['n']} transfers on {figure['label']}: ratio {ratio} (target >= 0.80)"
        if figure.get("repetitions", 1) > 1:
            title += f"\nmedian of {figure['repetitions']} repetitions; drawn: repetition {figure['repetition']}"
        ax.legend(loc="center left", fontsize=8)  # clear of the phase labels at the top
        ax.grid(alpha=0.3)
        ax.set(xlabel="seconds since the POST (bare: since its start)", ylabel="transfers confirmed", title=title)
    save(fig, [], "distribution.png")  # legends and grid set above
