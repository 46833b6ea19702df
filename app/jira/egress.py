"""How requests leave: the connect-time half of the host rules, over aiohttp.

`hosts.check_host_name` can only judge what a HostName spells. A name may still resolve to a
cloud metadata or link-local address (`169.254.169.254.nip.io`), or start to do so after it was
saved (DNS rebinding). So every new connection resolves the name itself (no DNS cache), checks
every address with the same rules, and connects only to the addresses it checked. TLS still
verifies the certificate against the HostName: aiohttp passes it as the server name.

The clients keep httpx's API (auth, retries, `httpx.Response`s) and send through
`CheckedAddressTransport`, which hands each request to aiohttp: httpx's own transport (httpcore
and h11 on anyio) spent about a millisecond of CPU per call here, aiohttp a third of that. An
aiohttp failure becomes the httpx error that says whether the request can have left
(`transport_error`): the Jira client repeats a POST only when it cannot have. Where
HTTP(S)_PROXY is set, httpx connects through the proxy with its own transport instead, and the
proxy decides where connections may go.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict
from yarl import URL

from app.jira.errors import JiraAddressRefused
from app.jira.hosts import address_refusal

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses in the resolver's order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressRules:
    """Which addresses a connection may go to: `address_refusal` with this client's setting,
    for every address a name resolves to (one forbidden address refuses the name)."""

    def __init__(self, *, allow_private: bool, element: str, setting: str) -> None:
        self._allow_private = allow_private
        self._element = element
        self._setting = setting

    def check(self, host: str, addresses: list[str]) -> None:
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

    def invalid_name(self, host: str, problem: Exception) -> JiraAddressRefused:
        return JiraAddressRefused(
            f"{self._element} {host} is not a valid host name ({problem}); nothing was sent."
        )


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver: looks the name up and answers only if every address is allowed."""

    def __init__(self, rules: AddressRules, lookup: Resolver = resolve) -> None:
        self._rules = rules
        self._lookup = lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        try:
            addresses = await self._lookup(host, port)
        except UnicodeError as exc:  # a HostName saved before names were checked as DNS names
            raise self._rules.invalid_name(host, exc) from None
        if not addresses:
            raise OSError(f"{host} has no address.")
        self._rules.check(host, addresses)
        return [resolve_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        pass


def resolve_result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return ResolveResult(
        hostname=host,
        host=address,
        port=port,
        family=family,
        proto=socket.IPPROTO_TCP,
        flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    )


@functools.cache
def default_tls() -> ssl.SSLContext:
    """httpx's default TLS settings (certificates verified against certifi's bundle), made once
    per process and shared by every client: loading the bundle costs about 40 ms of CPU, which
    each Jira client, each connection check and the event sender paid before, and a context is
    only read once made."""
    return httpx.create_ssl_context()


# aiohttp's failures, most specific first, as the httpx errors that say whether the request can
# have left: ConnectError, ConnectTimeout and UnsupportedProtocol mean it never did (nothing was
# written before the connection was made); the rest mean it may have.
_TRANSPORT_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
)


def transport_error(exc: aiohttp.ClientError) -> httpx.TransportError:
    """The httpx error for an aiohttp failure (see `_TRANSPORT_ERRORS`; any other is a
    `TransportError`, which may have been sent)."""
    message = str(exc) or type(exc).__name__
    for aiohttp_error, httpx_error in _TRANSPORT_ERRORS:
        if isinstance(exc, aiohttp_error):
            return httpx_error(message)
    return httpx.TransportError(message)


class CheckedAddressTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one aiohttp session, whose connections go only to
    addresses the rules allow (`CheckedResolver` for names; an address written as the host is
    checked here, as aiohttp does not look it up). The session is made at the first request, in
    the event loop that uses it. Bodies are read whole (Jira's answers and a receiver's are
    small) and left encoded, for httpx to decode."""

    def __init__(
        self,
        *,
        allow_private: bool,
        limits: httpx.Limits,
        resolver: Resolver = resolve,
        element: str = "HostName",
        setting: str = "allow_private_jira_hosts",
    ):
        self._rules = AddressRules(allow_private=allow_private, element=element, setting=setting)
        self._lookup = resolver
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _connector(self) -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(
            ssl=default_tls(),
            resolver=CheckedResolver(self._rules, self._lookup),
            use_dns_cache=False,
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry,
        )

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=self._connector(),
                auto_decompress=False,
                trust_env=False,
                # httpx has set every header it means to send; aiohttp adds none of its own.
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            # aiohttp repeats a GET, PUT or DELETE once on a dropped connection, unseen by the
            # client's retry policy, backoff and metrics; the client alone decides repeats (no
            # public switch: aiohttp's own test client turns it off the same way).
            self._session._retry_connection = False
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            self._rules.check(host, [str(address)])
        body = await request.aread()
        try:
            async with self._open_session().request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=CIMultiDict(request.headers.multi_items()),
                data=body or None,
                allow_redirects=False,
                timeout=client_timeout(request.extensions.get("timeout", {})),
            ) as answer:
                content = await answer.read()
        except aiohttp.ClientError as exc:
            raise transport_error(exc) from exc
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=httpx.ByteStream(content),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing it is given."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class CookielessClient(httpx.AsyncClient):
    """httpx's client, keeping no cookies. Each Jira REST call authenticates on its own (a kept
    session cookie would only tie later calls to one server's session), and one receiver's
    cookies have no place in the next event. httpx has no switch for its jar, and reading every
    answer into it (a urllib request and response built for `http.cookiejar`) took about a
    twelfth of a comment job's samples in a profile of the worker."""

    def __init__(self, **options: Any) -> None:
        if options.get("cookies"):
            raise ValueError("A CookielessClient sends no cookies.")
        super().__init__(**options)
        self._jar = NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise ValueError("A CookielessClient sends no cookies.")


def client_timeout(timeout: dict[str, float | None]) -> aiohttp.ClientTimeout:
    """httpx's timeouts in aiohttp's terms: waiting for a pooled connection and making a new one
    fall under `connect` (the longer of httpx's pool and connect times), each address's TCP and
    TLS handshake under `sock_connect`, and the wait for each part of the answer under
    `sock_read`. aiohttp has no write timeout; the bodies sent are small."""
    connect, pool = timeout.get("connect"), timeout.get("pool")
    waits = [seconds for seconds in (connect, pool) if seconds is not None]
    return aiohttp.ClientTimeout(
        total=None,
        connect=max(waits) if waits else None,
        sock_connect=connect,
        sock_read=timeout.get("read"),
    )
