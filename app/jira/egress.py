"""The connect-time half of the Jira host rules.

`hosts.check_host_name` can only judge what a HostName spells. A name may still resolve to a
cloud metadata or link-local address (`169.254.169.254.nip.io`), or start to do so after it was
saved (DNS rebinding). So every connection resolves the name itself, checks every address with
the same rules, and connects to the address it checked, never to a second lookup's answer.
TLS still verifies the certificate against the HostName: httpcore passes it as the server name.
Where HTTP(S)_PROXY is set, httpx connects through the proxy instead, and the proxy decides
where connections may go.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from app.jira.errors import JiraAddressRefused
from app.jira.hosts import address_refusal

Resolver = Callable[[str, int], Awaitable[list[str]]]
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses in the resolver's order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class CheckedAddressBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses `address_refusal` allows."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
        element: str = "HostName",
        setting: str = "allow_private_jira_hosts",
    ) -> None:
        self._allow_private = allow_private
        self._element = element
        self._setting = setting
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._checked_addresses(host, port, timeout)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # _checked_addresses never answers an empty list
        raise failure

    async def _checked_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"Looking up {host} took too long.") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"Could not look up {host}: {exc}") from None
        except UnicodeError as exc:  # a HostName saved before names were checked as DNS names
            raise JiraAddressRefused(
                f"{self._element} {host} is not a valid host name ({exc}); nothing was sent."
            ) from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address.")
        for address in addresses:
            refusal = address_refusal(
                ipaddress.ip_address(address.partition("%")[0]),
                allow_private=self._allow_private,
                setting=self._setting,
            )
            if refusal is not None:
                raise JiraAddressRefused(
                    f"{self._element} {host} resolves to {address}: {refusal}; "
                    "nothing was sent to it."
                )
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Only TCP connections are made.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def default_tls() -> ssl.SSLContext:
    """httpx's default TLS settings (certificates verified against certifi's bundle), made once
    per process and shared by every client: loading the bundle costs about 40 ms of CPU, which
    each Jira client, each connection check and the event sender paid (twice) before, and a
    context is only read once made."""
    return httpx.create_ssl_context()


class CheckedAddressTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool on `CheckedAddressBackend`.

    httpx has no public parameter for the network backend, so the pool it built is replaced by
    an identical one (same limits, the default TLS settings: `default_tls`) that has the
    backend.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        limits: httpx.Limits,
        resolver: Resolver = resolve,
        element: str = "HostName",
        setting: str = "allow_private_jira_hosts",
    ):
        super().__init__(limits=limits, verify=default_tls())
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=default_tls(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedAddressBackend(
                allow_private=allow_private, resolver=resolver, element=element, setting=setting
            ),
        )
