"""Issue 19's allow-list sync figure: one bulk of N allow-list entries (full 1,000, small 100) added
through the product, `POST /api/v1/tokens/{id}/allowlist/bulk` -> its one `allowlist_sync`
operation `completed` (the chain in sync), against a bare script making the same contract calls in
the same run (fresh addresses on each side, each repetition).

- anvil, `erc20-security`: the product sends one `batchSetEligible(address[], bool[])` per 500
  addresses (tokens/standards/operations.py ELIGIBILITY_PER_EVM_CALL); the bare web3.py script, with
  a funded key of its own that deployed (and so is an agent of) its own copy of the same artifact
  with the same constructor arguments, encodes the same calls, estimates each one's gas (+20 %),
  signs and sends them with consecutive nonces, then waits for every receipt.
- devnet, `arc1400-mintable`: the product sends atomic groups of a box-MBR payment to the app
  account + 15 `whitelist_set(address, true)` calls (deployments/adapters/algorand_operations.py);
  the bare py-algorand-sdk script builds the same groups with plain algosdk (the payment covering
  the 15 new whitelist boxes, each call referencing its box: the bare script knows its addresses are
  fresh, so it reads no box first), signs them with the issuer's own key (ARC-76, from the issuer's
  email and password) on the SAME application, sends them all, then waits for each group.

Outside the timed part: both tokens are deployed through the API, the bare EVM contract is deployed
with plain web3.py, the issuer's Algorand account is funded by the devnet faucet for every group
either side sends (so the product finds it funded, as the bare script does).
Timed: the product from the bulk POST to the operation's `completed` state change; the bare script
from building its first call to its last confirmation.

Rows: throughput (entries/s, medians; the ratio is the median of each repetition's product / bare),
the time to sync N entries (s; ratio product / bare, per repetition), split into the bulk POST's own
time (the registry write, no baseline) and the time from its answer to `completed` (against the
bare script's whole time), worker + server CPU per entry,
entries in sync afterwards: read back from the chain with web3.py `isEligible` (JSON-RPC batches) /
algosdk box reads, every address of both sides, not through the product. Curves: entries in sync
against time, and the product's state changes, for OUT/allowlist.png.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from bench.distribution import Distribution, log

if TYPE_CHECKING:
    from bench.run import Run

EVM_TOKEN = {"network": "evm-local", "name": "Bench Allowlist", "symbol": "BALW", "decimals": 0,
             "initial_supply": "1000", "cap": "5000"}
ARC1400_TOKEN = {"network": "algorand-localnet", "name": "Bench Allowlist ARC-1400", "symbol": "BALA",
                 "decimals": 0, "initial_supply": "1000", "cap": "5000"}
EVM_PER_CALL = 500  # tokens/standards/operations.py ELIGIBILITY_PER_EVM_CALL
ALGO_PER_GROUP = 15  # deployments/adapters/algorand_operations.py APP_TRANSFERS_PER_GROUP
FEE = 1000


class AllowlistSync:
    """One allow-list sync figure of a run: the tokens, the bare contract and key, the measurements."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.n = int(run.size["allowlist"])
        self.reps = int(run.size["reps"])
        self.headers = run.deployers[0]
        self.helpers = Distribution(run)  # deploy, wait_operation, cpu: the same as the distribution figure's
        self.curves: dict[str, Any] = {}

    # --- the product ------------------------------------------------------------------------------

    def product(self, token: Any, addresses: list[str], per_part: int) -> dict[str, Any]:
        """POST allowlist/bulk, then wait for its allowlist_sync operation; the end is the `completed` row's time."""

        body = {"entries": [{"address": a, "jurisdiction": "DE"} for a in addresses]}
        cpu0, started = self.helpers.cpu(), time.time()
        answer = self.run.http.json("POST", f"/api/v1/tokens/{token.pk}/allowlist/bulk", body, self.headers,
                                    expect=200)
        post_seconds = time.time() - started
        syncs = {(row.get("sync") or {}).get("operation_id") for row in answer["results"]}
        if len(syncs) != 1 or None in syncs:
            raise RuntimeError(f"the bulk did not queue exactly one allowlist_sync: {syncs}")
        return self.helpers.followed(str(syncs.pop()), started=started, cpu0=cpu0, post_seconds=post_seconds,
                                     per_part=per_part, n=self.n)

    # --- anvil --------------------------------------------------------------------------------------

    def evm_setup(self) -> dict[str, Any]:
        """The product's token (API) and the bare script's own contract: the same artifact and
        constructor arguments, deployed with plain web3.py by a fresh funded key (its owner and agent)."""
        from eth_account import Account
        from web3 import Web3

        from devchain.anvil import fund
        from tokens.chains.evm_artifacts import deploy_data, load_artifact

        token = self.helpers.deploy("erc20-security", EVM_TOKEN)
        agent = Account.create()
        fund(self.run.anvil.url, agent.address, 10**21)
        w3 = Web3(Web3.HTTPProvider(self.run.anvil.url))
        data: Any = deploy_data(standard="erc20-security", params=EVM_TOKEN, sender=agent.address)
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        tx = {"type": 2, "chainId": 31337, "nonce": w3.eth.get_transaction_count(agent.address), "value": 0,
              "gas": w3.eth.estimate_gas({"from": agent.address, "data": data}) * 12 // 10, "data": data,
              "maxFeePerGas": 2 * base_fee + 10**9, "maxPriorityFeePerGas": 10**9}
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(Account.sign_transaction(tx, agent.key).raw_transaction), timeout=60)
        if receipt["status"] != 1:
            raise RuntimeError("the bare erc20-security deployment reverted")
        abi = load_artifact("erc20-security").abi
        return {"token": token, "agent": agent, "w3": w3,
                "product_contract": w3.eth.contract(address=Web3.to_checksum_address(token.contract_address), abi=abi),
                "contract": w3.eth.contract(address=receipt["contractAddress"], abi=abi)}

    def evm_bare(self, chain: dict[str, Any], addresses: list[str]) -> dict[str, Any]:
        """The same batchSetEligible calls (500 addresses each), consecutive nonces, then every receipt."""
        from eth_account import Account

        w3, contract, agent = chain["w3"], chain["contract"], chain["agent"]
        cpu0, started = time.process_time(), time.time()
        chunks = [addresses[start:start + EVM_PER_CALL] for start in range(0, len(addresses), EVM_PER_CALL)]
        datas = [contract.encode_abi("batchSetEligible", args=[chunk, [True] * len(chunk)]) for chunk in chunks]
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        nonce = w3.eth.get_transaction_count(agent.address)
        hashes = []
        for i, data in enumerate(datas):
            gas = w3.eth.estimate_gas({"from": agent.address, "to": contract.address, "data": data}) * 12 // 10
            tx = {"type": 2, "chainId": 31337, "nonce": nonce + i, "gas": gas, "to": contract.address, "value": 0,
                  "maxFeePerGas": 2 * base_fee + 10**9, "maxPriorityFeePerGas": 10**9, "data": data}
            hashes.append(w3.eth.send_raw_transaction(Account.sign_transaction(tx, agent.key).raw_transaction))
        sent = time.time() - started
        curve: list[float] = []
        for tx_hash, chunk in zip(hashes, chunks, strict=True):
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.01)
            if receipt["status"] != 1:
                raise RuntimeError("a bare batchSetEligible reverted")
            curve += [time.time() - started] * len(chunk)
        seconds = max(curve)
        return {"seconds": seconds, "rate": self.n / seconds, "cpu_per": (time.process_time() - cpu0) / self.n,
                "curve": curve, "phases": {"signed and sent": sent, "all receipts": seconds}}

    def evm_in_sync(self, contract: Any, addresses: list[str]) -> int:
        """Addresses `isEligible` on the contract (eth_call in JSON-RPC batches of 200)."""
        import requests

        eligible = 0
        for start in range(0, len(addresses), 200):
            batch: list[Any] = [{"jsonrpc": "2.0", "id": i, "method": "eth_call",
                                 "params": [{"to": contract.address,
                                             "data": contract.encode_abi("isEligible", args=[a])}, "latest"]}
                                for i, a in enumerate(addresses[start:start + 200], start)]
            for answer in requests.post(self.run.anvil.url, json=batch, timeout=60).json():
                eligible += int(answer["result"], 16) == 1
        return eligible

    # --- devnet -------------------------------------------------------------------------------------

    def algo_addresses(self) -> list[str]:
        from algosdk import account

        return [account.generate_account()[1] for _ in range(self.n)]

    def algo_setup(self) -> dict[str, Any]:
        """The product's ARC-1400 app (API); the bare script signs with the issuer's own key."""
        from algosdk import account
        from algosdk.v2client.algod import AlgodClient

        from accounts import arc76
        from bench.run import PASSWORD

        token = self.helpers.deploy("arc1400-mintable", ARC1400_TOKEN)
        key = arc76.algorand_private_key(arc76.arc76_seed(self.run.deployer_emails[0], PASSWORD))
        issuer = account.address_from_private_key(key)
        if issuer != token.issuer_address:
            raise RuntimeError(f"the issuer's ARC-76 key is {issuer}, the token's issuer {token.issuer_address}")
        from tokens.contracts.avm import WHITELIST_BOX_MIN_BALANCE

        groups = -(-self.n // ALGO_PER_GROUP)
        per_bulk = groups * (ALGO_PER_GROUP + 1) * FEE + self.n * WHITELIST_BOX_MIN_BALANCE
        devnet: Any = self.run.devnet
        devnet.fund(issuer, 1_000_000 + 2 * (self.reps + 1) * per_bulk)  # both sides, every repetition
        return {"token": token, "app_id": int(token.app_id or 0), "issuer": issuer, "key": key,
                "client": AlgodClient(devnet.token, devnet.url)}

    def algo_bare(self, chain: dict[str, Any], addresses: list[str]) -> dict[str, Any]:
        """Groups of [box-MBR payment to the app, 15 whitelist_set(address, true)] built with algosdk,
        signed with the issuer's key, all sent, then each group's confirmation awaited."""
        from algosdk import encoding, transaction
        from algosdk.logic import get_application_address

        from tokens.chains.algorand_build import abi_method
        from tokens.contracts.avm import WHITELIST_BOX_MIN_BALANCE, WHITELIST_BOX_PREFIX

        client, issuer, key, app_id = chain["client"], chain["issuer"], chain["key"], chain["app_id"]
        method = abi_method("arc1400-mintable", "whitelist_set")  # the ABI from the contract's artifact
        address_type, bool_type = (cast(Any, arg.type) for arg in method.args)
        app_address = get_application_address(app_id)
        cpu0, started = time.process_time(), time.time()
        sp = client.suggested_params()
        groups = []
        for start in range(0, len(addresses), ALGO_PER_GROUP):
            chunk = addresses[start:start + ALGO_PER_GROUP]
            txns: list[Any] = [transaction.PaymentTxn(issuer, sp, app_address, len(chunk) * WHITELIST_BOX_MIN_BALANCE)]
            txns += [transaction.ApplicationNoOpTxn(
                issuer, sp, app_id, app_args=[method.get_selector(), address_type.encode(a), bool_type.encode(True)],
                boxes=[(app_id, WHITELIST_BOX_PREFIX + encoding.decode_address(a))]) for a in chunk]
            transaction.assign_group_id(txns)
            client.send_transactions([t.sign(key) for t in txns])
            groups.append((txns[-1].get_txid(), len(chunk)))
        sent = time.time() - started
        curve: list[float] = []
        for txid, count in groups:
            transaction.wait_for_confirmation(client, txid, 20)
            curve += [time.time() - started] * count
        seconds = max(curve)
        return {"seconds": seconds, "rate": self.n / seconds, "cpu_per": (time.process_time() - cpu0) / self.n,
                "curve": curve, "phases": {"signed and sent": sent, "all confirmed": seconds}}

    def algo_in_sync(self, chain: dict[str, Any], addresses: list[str]) -> int:
        """Addresses whose whitelist box exists with a non-zero flag (algod box reads)."""
        import base64

        from algosdk import encoding
        from algosdk.error import AlgodHTTPError

        from tokens.contracts.avm import WHITELIST_BOX_PREFIX

        client, listed = chain["client"], 0
        for address in addresses:
            try:
                box = client.application_box_by_name(chain["app_id"],
                                                     WHITELIST_BOX_PREFIX + encoding.decode_address(address))
            except AlgodHTTPError as exc:
                if exc.code == 404:
                    continue
                raise
            listed += any(base64.b64decode(box["value"]))
        return listed

    # --- the figure -----------------------------------------------------------------------------------

    def measure(self, key: str, label: str, chain: dict[str, Any], per_part: int, addresses: Any, bare: Any,
                in_sync: Any) -> None:
        from bench.harness import median

        products, bares, synced_product, synced_bare = [], [], [], []
        for rep in range(self.reps):
            product_to, bare_to = addresses(), addresses()
            if rep % 2 == 0:  # alternate who goes first: a node that slows as its chain grows favours neither
                products.append(self.product(chain["token"], product_to, per_part))
                bares.append(bare(chain, bare_to))
            else:
                bares.append(bare(chain, bare_to))
                products.append(self.product(chain["token"], product_to, per_part))
            synced_product.append(in_sync("product", product_to))
            synced_bare.append(in_sync("bare", bare_to))
            p, b = products[-1], bares[-1]
            pair = None if p["rate"] is None else p["rate"] / b["rate"]
            log(f"allowlist {label}, repetition {rep + 1}: ratio {'-' if pair is None else f'{pair:.2f}'}, "
                f"product {p['seconds'] or float('nan'):.2f} s in {p['parts']} transaction(s)/group(s) "
                f"(POST {p['post_seconds']:.2f} s, " + ", ".join(f"{k} at {v:.2f} s" for k, v in p["phases"].items())
                + f"), bare {b['seconds']:.2f} s (" + ", ".join(f"{k} at {v:.2f} s" for k, v in b["phases"].items())
                + f"); in sync: product {synced_product[-1]}, bare {synced_bare[-1]} of {self.n}")
        done = [p for p in products if p["rate"] is not None]
        # As in the distribution figure: the ratio is the median of each repetition's own ratio (both
        # sides on the same chain state, back to back), since the nodes slow as their chains grow.
        pairs = [None if p["rate"] is None else p["rate"] / b["rate"] for p, b in zip(products, bares, strict=True)]
        paired = [r for r in pairs if r is not None]
        ratio = median(paired) if paired else None
        times = [p["seconds"] / b["seconds"] for p, b in zip(products, bares, strict=True) if p["seconds"]]
        shown = sorted((i for i, r in enumerate(pairs) if r is not None), key=lambda i: pairs[i] or 0.0)
        rep = shown[len(shown) // 2] if shown else len(products) - 1
        standard = "erc20-security" if key == "evm" else "arc1400-mintable"
        self.run.row(f"allowlist bulk of {self.n} entries, {standard} on {label}, POST -> in sync (1 worker)",
                     median(p["rate"] for p in done) if done else None, median(b["rate"] for b in bares), "",
                     "entries/s", ratio=ratio)
        what = "EVM" if key == "evm" else "Algorand"
        self.run.row(f"{what} allowlist sync: time to sync {self.n} entries",
                     median(p["seconds"] for p in done) if done else None, median(b["seconds"] for b in bares), "",
                     "s", ratio=median(times) if times else None)
        # The two parts of the product's time: the bulk POST (the registry write; the bare script has
        # none) and what follows its answer (the operation through the pipeline to the chain).
        self.run.row(f"{what} allowlist sync: bulk POST -> 200 (registry write)",
                     median(p["post_seconds"] for p in products), None, "", "s")
        chain_times = [(p["seconds"] - p["post_seconds"]) / b["seconds"]
                       for p, b in zip(products, bares, strict=True) if p["seconds"]]
        self.run.row(f"{what} allowlist sync: POST answered -> in sync (pipeline and chain)",
                     median(p["seconds"] - p["post_seconds"] for p in done) if done else None,
                     median(b["seconds"] for b in bares), "", "s",
                     ratio=median(chain_times) if chain_times else None)
        self.run.row(f"{what} allowlist sync: worker + server CPU per entry",
                     median(p["cpu_per"] for p in products) * 1000, median(b["cpu_per"] for b in bares) * 1000, "",
                     "ms CPU")
        self.run.row(f"{what} allowlist sync: entries in sync on chain", min(synced_product), min(synced_bare),
                     f"{self.n}", "entries")
        log(f"allowlist {label}: product / bare throughput = {'-' if ratio is None else f'{ratio:.2f}'}")
        last, last_bare = products[rep], bares[rep]
        self.curves[key] = {"label": label, "standard": standard, "n": self.n, "ratio": ratio,
                            "repetition": rep + 1, "repetitions": len(products),
                            "product": {k: last[k] for k in ("seconds", "post_seconds", "phases", "curve")},
                            "bare": {k: last_bare[k] for k in ("seconds", "phases", "curve")}}

    def all(self) -> None:
        self.run.start_celery(1)
        evm = self.evm_setup()
        self.measure("evm", "anvil", evm, EVM_PER_CALL, self.helpers.evm_recipients, self.evm_bare,
                     lambda side, to: self.evm_in_sync(evm["product_contract" if side == "product" else "contract"],
                                                       to))
        algo = self.algo_setup()
        self.measure("algo", "the devnet", algo, ALGO_PER_GROUP, self.algo_addresses, self.algo_bare,
                     lambda side, to: self.algo_in_sync(algo, to))
        self.run.curves["allowlist"] = self.curves


def plot(plt: Any, data: dict[str, Any] | None, save: Any) -> None:
    """allowlist.png: entries in sync on chain against time, product and bare, per chain, with the
    bulk POST's answer and the product's state changes (submitted ... completed) as dotted lines."""
    if not data:
        return
    keys = [k for k in ("evm", "algo") if k in data]
    fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        figure = data[key]
        for side, name in (("product", "product (parts marked confirmed)"), ("bare", "bare script (receipts seen)")):
            curve = sorted(figure[side]["curve"])
            if curve:
                ax.step([0.0, *curve], list(range(len(curve) + 1)), where="post", label=name)
        marks = {"POST answered": figure["product"]["post_seconds"], **figure["product"]["phases"]}
        for i, (phase, at) in enumerate(marks.items()):
            ax.axvline(at, color="grey", linestyle=":", linewidth=0.8)
            ax.annotate(phase, (at, figure["n"] * (1 - 0.22 * (i % 3))), rotation=90, fontsize=7, va="top",
                        ha="right", color="grey")
        ratio = "-" if figure["ratio"] is None else f"{figure['ratio']:.2f}"
        title = f"{figure['n']} entries, {figure['standard']} on {figure['label']}: ratio {ratio}"
        if figure.get("repetitions", 1) > 1:
            title += f"\nmedian of {figure['repetitions']} repetitions; drawn: repetition {figure['repetition']}"
        ax.legend(loc="center left", fontsize=8)
        ax.grid(alpha=0.3)
        ax.set(xlabel="seconds since the POST (bare: since its start)", ylabel="entries in sync on chain",
               title=title)
    save(fig, [], "allowlist.png")
