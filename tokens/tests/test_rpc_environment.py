"""The chain clients read the process environment once, not per request (issue 13: requests scanned
os.environ for proxies on every JSON-RPC call, py-algorand-sdk built a new urllib opener per call)."""
from __future__ import annotations

import urllib.request

from tokens.chains import algorand_node
from tokens.chains.evm_rpc import EnvironmentOnceSession


def test_the_evm_session_reads_the_proxy_environment_once_per_url(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy-one.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = EnvironmentOnceSession()
    first = session.merge_environment_settings("http://node.example:8545", {}, None, None, None)
    assert first["proxies"]["http"] == "http://proxy-one.example:3128"
    monkeypatch.setenv("HTTP_PROXY", "http://proxy-two.example:3128")
    again = session.merge_environment_settings("http://node.example:8545", {}, None, None, None)
    assert again == first  # kept: not re-read from the environment
    again["proxies"] = {}
    assert session.merge_environment_settings("http://node.example:8545", {}, None, None, None) == first
    explicit = session.merge_environment_settings("http://node.example:8545", {"http": "http://mine:1"},
                                                  None, False, None)
    assert explicit["proxies"]["http"] == "http://mine:1" and explicit["verify"] is False  # explicit wins


def test_the_algod_client_installs_one_default_opener(monkeypatch):
    monkeypatch.setattr(urllib.request, "_opener", None)
    monkeypatch.setattr(algorand_node, "_opener_installed", False)
    algorand_node._default_opener_install()
    opener = urllib.request._opener
    assert isinstance(opener, urllib.request.OpenerDirector)
    algorand_node._default_opener_install()
    assert urllib.request._opener is opener  # once per process


def test_an_opener_installed_by_someone_else_is_kept(monkeypatch):
    mine = urllib.request.build_opener()
    monkeypatch.setattr(urllib.request, "_opener", mine)
    monkeypatch.setattr(algorand_node, "_opener_installed", False)
    algorand_node._default_opener_install()
    assert urllib.request._opener is mine
