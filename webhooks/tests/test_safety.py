"""Target checks: which addresses are refused, and the pinned connection target."""
from __future__ import annotations

import ipaddress

import pytest

from webhooks.safety import UnsafeTarget, address_refusal, check_target


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.1", "private"), ("172.16.5.4", "private"),
    ("192.168.1.1", "private"), ("fc00::1", "private"), ("169.254.10.10", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("240.0.0.1", "reserved"),
    ("100.64.0.1", "non-public"), ("::ffff:10.0.0.1", "private"), ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
])
def test_non_public_addresses_are_refused(settings, address, reason):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert reason in (address_refusal(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"])
def test_public_addresses_are_accepted(settings, address):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_allow_setting_permits_private_but_never_metadata(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    assert address_refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert address_refusal(ipaddress.ip_address("169.254.169.254")) == "a cloud metadata address"


def test_pinned_target_connects_to_the_checked_address(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    target = check_target("http://localhost:8081/a/b?c=d")
    assert target.address in ("127.0.0.1", "::1")
    assert target.url in ("http://127.0.0.1:8081/a/b?c=d", "http://[::1]:8081/a/b?c=d")
    assert (target.host, target.sni_hostname) == ("localhost:8081", "localhost")
    literal = check_target("https://[::1]/hook")
    assert (literal.url, literal.host, literal.sni_hostname) == ("https://[::1]/hook", "[::1]", None)


@pytest.mark.parametrize("url", ["https://user:pw@example.com/", "https:///nohost", "https://a.invalid/",
                                 "https://example.com/#frag", "gopher://example.com/"])
def test_bad_urls_are_refused(url):
    with pytest.raises(UnsafeTarget):
        check_target(url)


@pytest.mark.parametrize(("address", "reason"), [
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:7f00:0001:0:0:0:0:1", "loopback"),
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("2002:c0a8:101::", "private"),  # 6to4 of 192.168.1.1
    ("2002:a9fe:a9fe::", "metadata"),  # 6to4 of 169.254.169.254
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1 (obfuscated)
    ("2001:0:7f00:1:8000:63bf:f5ff:fffe", "loopback"),  # Teredo, server 127.0.0.1, client 10.0.0.1
    ("2001:0:808:808:0:0:f5ff:fffe", "private"),  # Teredo, public server, client 10.0.0.1
    ("::7f00:1", "loopback"),  # IPv4-compatible 127.0.0.1
    ("::a00:1", "private"),  # IPv4-compatible 10.0.0.1
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::a00:1", "non-public"),  # NAT64 local-use prefix
])
def test_ipv6_forms_embedding_non_public_ipv4_are_refused(settings, address, reason):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert reason in (address_refusal(ipaddress.ip_address(address)) or "")


def test_embedded_metadata_address_is_refused_even_when_private_targets_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    for address in ("2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", "::ffff:169.254.169.254", "::a9fe:a9fe"):
        assert "metadata" in (address_refusal(ipaddress.ip_address(address)) or ""), address


def test_public_ipv4_behind_nat64_or_6to4_is_accepted(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert address_refusal(ipaddress.ip_address("64:ff9b::808:808")) is None
    assert address_refusal(ipaddress.ip_address("2002:808:808::1")) is None


@pytest.mark.parametrize("url", ["https://[2002:7f00:1::]/hook", "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
                                 "https://[64:ff9b::7f00:1]:8443/"])
def test_target_urls_with_embedded_loopback_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(UnsafeTarget):
        check_target(url)
