"""Which Jira host names and addresses the service may call: pure checks, no DNS, no I/O
(`app.jira.egress` applies the same rules to the addresses a name resolves to).

Self-hosted Jira Server lives on private networks, so private and loopback addresses are allowed
unless `allow_private_jira_hosts` is off; link-local and cloud metadata endpoints never are (a
HostName pointing there would turn the service into a credential-stealing proxy).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

import idna

METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.packet.net",
        "metadata.platformequinix.com",
        "metadata.tencentyun.com",
    }
)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services on addresses that are not link-local (AWS IPv6 IMDS, Alibaba Cloud).
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
)


class HostNameError(ValueError):
    """A HostName the service refuses; the message says why in plain words."""


# A DNS label as resolvers take it (`_` included: in use, though no host name has it).
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
# Labels of digits or `0x` hex only: the C library reads such a name as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def _dns_name(host: str, element: str = "HostName") -> str:
    """The name as it is looked up: Unicode in its IDNA (UTS #46) form, so that `①②⑦.0.0.1` is
    judged as the `127.0.0.1` it becomes; HostNameError when no lookup could find it."""
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise HostNameError(f"{element} {host!r} is not a valid host name: {exc}.") from None
    if len(host) > 253:
        raise HostNameError(f"{element} {host[:40]!r}… is longer than a host name can be (253).")
    for label in host.split("."):
        if not _LABEL.fullmatch(label):
            raise HostNameError(
                f"{element} {host!r} is not a valid host name: each part between dots is 1 to 63 "
                "letters, digits, '-' or '_', not starting or ending with '-'."
            )
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                raise HostNameError(
                    f"{element} {host!r} is not a valid host name: {label!r}: {exc}."
                ) from None
    return host


def _literal_address(host: str, element: str = "HostName") -> IPAddress | None:
    """The IP address a host spells, in any form the C library reads (`2852039166`,
    `0xa9fea9fe`, `0177.0.0.1`); None for a name. A numeric host no form reads is refused."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not all(_NUMERIC_LABEL.fullmatch(label) for label in host.split(".")):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        raise HostNameError(f"{element} {host!r} is neither a host name nor an address.") from None


def address_refusal(
    address: IPAddress, *, allow_private: bool, setting: str = "allow_private_jira_hosts"
) -> str | None:
    """Why the service will not connect to `address` ("a link-local … address and is refused"),
    or None when it may. Used for literal HostNames here and for resolved ones in `egress`."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local or address in METADATA_ADDRESSES:
        return "a link-local or cloud metadata address and is refused"
    if (
        address.is_unspecified
        or address.is_multicast
        or (address.is_reserved and not address.is_loopback)
    ):
        return "not an address a Jira server can have"
    if not allow_private and (address.is_private or address.is_loopback):
        return (
            f"a private or loopback address, which this service is configured to refuse ({setting})"
        )
    return None


def check_host_name(
    value: str,
    *,
    allow_private: bool = True,
    element: str = "HostName",
    setting: str = "allow_private_jira_hosts",
    credentials_hint: str = "use UserName and ApiToken instead.",
    keep_query: bool = False,
) -> str:
    """The normalised HostName (no trailing slash), or HostNameError saying what is wrong.
    The same rules judge other URLs the service calls (`element` names them in the messages,
    `setting` the switch for private addresses; `keep_query` allows a query string)."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise HostNameError(f"{element} {value!r} is not a valid URL: {exc}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise HostNameError(
            f"{element} must be an http(s) URL including the protocol, "
            "e.g. https://yourcompany.atlassian.net."
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise HostNameError(f"{element} must not contain credentials; {credentials_hint}")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise HostNameError(f"{element} has no host, e.g. https://yourcompany.atlassian.net.")
    if parts.fragment or (parts.query and not keep_query):
        raise HostNameError(f"{element} must not contain a query or fragment.")
    if ":" not in host:
        host = _dns_name(host, element)
    if host in METADATA_HOSTS or host.endswith(".metadata.google.internal"):
        raise HostNameError(f"{element} {host!r} is a cloud metadata service and is refused.")
    address = _literal_address(host, element)
    if address is not None:
        refusal = address_refusal(address, allow_private=allow_private, setting=setting)
        if refusal is not None:
            raise HostNameError(f"{element} {host} is {refusal}.")
        if ":" not in host and host != str(address):
            raise HostNameError(
                f"{element} {host} is the address {address} written in a form that not every "
                f"client reads alike; write {address}."
            )
    elif not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise HostNameError(
            f"{element} {host} is a loopback name, which this service is configured to refuse "
            f"({setting})."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = f"?{parts.query}" if parts.query and keep_query else ""
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}{query}"
