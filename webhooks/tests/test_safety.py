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
