"""HostName checks: a table of URLs and what the service makes of them."""

from __future__ import annotations

import pytest

from app.jira.hosts import HostNameError, check_host_name

ACCEPTED = [
    ("https://acme.atlassian.net", "https://acme.atlassian.net"),
    ("https://ACME.atlassian.net/", "https://acme.atlassian.net"),
    ("http://in-house.domain.com:8080", "http://in-house.domain.com:8080"),
    ("http://jira.corp.local:8080/jira/", "http://jira.corp.local:8080/jira"),
    ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
    ("http://192.168.1.20", "http://192.168.1.20"),
    ("http://127.0.0.1:8090", "http://127.0.0.1:8090"),
    ("http://localhost:8080", "http://localhost:8080"),
    ("http://[::1]:8080", "http://[::1]:8080"),
    # What is checked is what is connected to: names in the form they are looked up.
    ("https://exämple.com", "https://xn--exmple-cua.com"),
    ("https://ｊｉｒａ.example.com", "https://jira.example.com"),
    ("http://①②⑦.0.0.1", "http://127.0.0.1"),
    ("http://jira_1.corp.example", "http://jira_1.corp.example"),
    ("http://jira.example.com.", "http://jira.example.com"),
]

REFUSED = [
    ("ftp://jira.example.com", "must be an http"),
    ("jira.example.com", "must be an http"),
    ("https://user:pass@jira.example.com", "credentials"),
    ("https://user@jira.example.com", "credentials"),
    ("http://169.254.169.254", "link-local"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://169.254.1.1:8080", "link-local"),
    ("http://[fe80::1]", "link-local"),
    ("http://[::ffff:169.254.169.254]", "link-local"),
    ("http://2852039166", "link-local"),
    ("http://0xa9fea9fe", "link-local"),
    ("http://metadata.google.internal", "metadata"),
    ("http://METADATA.google.internal./computeMetadata", "metadata"),
    ("http://100.100.100.200", "metadata"),
    ("http://[fd00:ec2::254]", "metadata"),
    ("http://0.0.0.0:8080", "not an address"),
    ("https://", "no host"),
    ("https://jira.example.com/?next=1", "query"),
    # Hosts the C library reads as addresses other clients do not, or no lookup can find.
    ("http://0251.0376.0251.0376", "link-local"),
    ("http://0177.0.0.1:8099", "written in a form that not every client reads alike; write 127"),
    ("http://2130706433", "write 127.0.0.1"),
    ("http://127.1", "write 127.0.0.1"),
    ("http://1.2.3.4.5", "neither a host name nor an address"),
    ("http://a..b", "not a valid host name"),
    ("http://xn--", "not a valid host name"),
    ("http://xn--abc.example", "not a valid host name"),
    ("http://-jira.example", "not a valid host name"),
    ("http://" + "a" * 70 + ".example", "not a valid host name"),
    ("http://" + "a." * 130 + "example", "longer than a host name can be"),
]


@pytest.mark.parametrize(("given", "expected"), ACCEPTED)
def test_accepted_host_names_are_normalised(given: str, expected: str) -> None:
    assert check_host_name(given) == expected


@pytest.mark.parametrize(("given", "why"), REFUSED)
def test_refused_host_names_say_why(given: str, why: str) -> None:
    with pytest.raises(HostNameError, match=why):
        check_host_name(given)


@pytest.mark.parametrize(
    "given",
    [
        "http://10.0.0.5",
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://[::1]",
        "http://①②⑦.0.0.1",
    ],
)
def test_private_hosts_are_refused_when_the_setting_forbids_them(given: str) -> None:
    with pytest.raises(HostNameError, match="allow_private_jira_hosts"):
        check_host_name(given, allow_private=False)


def test_public_hosts_are_fine_when_private_ones_are_forbidden() -> None:
    assert check_host_name("https://acme.atlassian.net", allow_private=False)
