"""The standards table is complete, and it is the only place in the source that names a standard."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from algosdk.encoding import encode_address

from biatec.core.errors import ValidationFailed
from tokens.chains.algorand_build import arc200_params_check
from tokens.contracts.avm import load_artifact as load_avm_artifact
from tokens.networks import ALGORAND, EVM
from tokens.standards import STANDARDS, Standard
from tokens.standards.fields import CAP_BELOW_SUPPLY, cap_below_supply

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("accounts", "biatec", "compliance", "deployments", "tokens", "webhooks")
TABLE = ROOT / "tokens" / "standards"
# A slug, or the pieces of one that code used to branch on (`standard.endswith("-nft")`).
SLUG_PATTERN = re.compile(r"^(?:(?:erc20|asa|arc3|arc200|arc1400)-[a-z0-9-]+|-(?:nft|fnft|ft|mintable|preminted))$")
KIND_PATTERN = re.compile(r"^(?:erc20|asa|arc3|arc200|arc1400)$")


@pytest.mark.parametrize("slug", sorted(STANDARDS))
def test_every_row_is_complete(slug: str) -> None:
    spec: Standard = STANDARDS[slug]
    assert spec.slug == slug and spec.family in (EVM, ALGORAND) and spec.title
    assert spec.steps, "a standard has at least one chain step"
    assert spec.read_back, "the read-back must compare something"
    assert isinstance(spec.operations, tuple)
    assert spec.fungibility in ("unique", "fractional", "fungible")
    assert not (spec.unique and spec.mintable)
    fields = spec.serializer().fields
    assert "network" in fields and set(fields["network"].choices) == {n.slug for n in spec.networks()}
    for name in spec.chain_args:
        fixed = name == "cap" and not spec.mintable  # a fixed-supply ARC-200 bootstraps with cap 0
        assert name in fields or fixed, f"{slug}: chain argument {name} is not a request field"
    for _, source in spec.read_back:
        if isinstance(source, str) and source.removeprefix("int:").startswith("request."):
            field = source.removeprefix("int:").removesuffix("?").removeprefix("request.")
            assert field in fields or field in ("total", "decimals"), f"{slug}: read-back of unknown {field}"
    # the example is a valid request of the standard
    serializer = spec.serializer(data=spec.example_request())
    assert serializer.is_valid(), (slug, serializer.errors)
    if spec.family == EVM:
        from tokens.chains.evm_artifacts import load_artifact

        artifact = load_artifact(slug)
        assert artifact.contract_name == spec.contract
        assert len(artifact.constructor_types()) == len(spec.chain_args)
    elif spec.is_app:
        methods = {m["name"]: m for m in load_avm_artifact(str(spec.contract))["arc56"]["methods"]}
        assert len(methods["bootstrap"]["args"]) == len(spec.chain_args)
        assert spec.bootstrap_min_balance > 0
    else:
        assert spec.is_asset and spec.chain_args == () and spec.bootstrap_min_balance == 0


def _app_sources() -> list[Path]:
    files = []
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts or path.is_relative_to(TABLE):
                continue
            files.append(path)
    return files


def _comparisons_and_literals(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SLUG_PATTERN.match(node.value):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
        if isinstance(node, ast.Compare):  # `kind == "arc3"`, `standard in ("asa", "arc3")`
            for side in (node.left, *node.comparators):
                for const in ast.walk(side):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) \
                            and KIND_PATTERN.match(const.value):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: compares {const.value!r}")
    return found


def test_no_module_outside_the_table_names_a_standard() -> None:
    sources = _app_sources()
    assert len(sources) > 50  # the walk really covers the apps
    found = [hit for path in sources for hit in _comparisons_and_literals(path)]
    assert not found, "standard knowledge outside tokens/standards:\n" + "\n".join(found)


def test_the_scan_catches_a_planted_comparison(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('def f(s):\n    return s == "erc20-mintable" or s.endswith("-fnft") or kind in ("asa",)\n')
    hits = _comparisons_and_literals(planted, root=tmp_path)
    assert len(hits) == 3, hits


@pytest.mark.parametrize("slug", sorted(slug for slug, row in STANDARDS.items() if row.mintable))
def test_one_cap_rule_at_post_and_where_the_chain_arguments_are_built(slug: str) -> None:
    """`cap_below_supply` is the supply-cap rule of both the request serializer and the ARC-200
    bootstrap arguments: cap == initial supply is accepted, one below is refused with one message."""
    spec = STANDARDS[slug]
    request = spec.example_request()
    supply = int(request["initial_supply"])
    assert not cap_below_supply(cap=supply, initial_supply=supply) and cap_below_supply(cap=supply - 1,
                                                                                          initial_supply=supply)
    assert not cap_below_supply(cap=0, initial_supply=supply), "cap 0: a preminted ARC-200, no minting"
    assert spec.serializer(data={**request, "cap": str(supply)}).is_valid()
    refused = spec.serializer(data={**request, "cap": str(supply - 1)})
    assert not refused.is_valid() and refused.errors["cap"] == [CAP_BELOW_SUPPLY]
    if spec.is_app:
        sender = encode_address(bytes(range(32)))  # any well-formed address (a literal trips the secret scan)
        assert arc200_params_check(params={**request, "cap": supply}, standard=slug, sender=sender)["cap"] == supply
        with pytest.raises(ValidationFailed) as refused_on_chain:
            arc200_params_check(params={**request, "cap": supply - 1}, standard=slug, sender=sender)
        assert refused_on_chain.value.details["fields"]["cap"] == [CAP_BELOW_SUPPLY]
