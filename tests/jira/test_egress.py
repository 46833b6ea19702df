"""Connect-time address checks: a HostName that resolves to a forbidden address is never called."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from sqlalchemy import update
from sqlmodel import col
from yarl import URL

from app.core.security import SecretBox
from app.integration.diagnostics import test_connection as check_connection
from app.integration.models import JiraInstance
from app.integration.schemas import ConnectionTestOut
from app.integration.services import Services
from app.jira.client import JiraClient
from app.jira.egress import (
    AddressRules,
    CheckedAddressTransport,
    CheckedResolver,
    default_tls,
    transport_error,
)
from app.jira.errors import JiraAddressRefused, JiraAmbiguousResult, JiraUnavailable
from app.jira.http import NOT_SENT
from app.jira.pool import JiraClientPool
from app.main import create_app
from jirasim import JiraSimulator
from tests.conftest import SECRET_KEY, SIM_TOKEN, SIM_USER, api_client, started
from tests.jira.test_pool import PoolSettings
from tests.support.helpdesk import create_ticket, get_ticket, history
from tests.support.jobs import drain, jobs_of_kind
from tests.support.world import ready_helpdesk

KEY = ConnectionKey("jira.example.com", 443, True, True, None, None, None)
REQUEST_INFO = RequestInfo(
    URL("https://jira.example.com/rest/api/2/issue"), "POST", CIMultiDictProxy(CIMultiDict())
)


def answering(*addresses: str) -> Any:
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


async def failing_lookup(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


async def invalid_name(host: str, port: int) -> list[str]:
    raise UnicodeError("label empty or too long")


def rules(*, allow_private: bool) -> AddressRules:
    return AddressRules(
        allow_private=allow_private, element="HostName", setting="allow_private_jira_hosts"
    )


class TestCheckedResolver:
    @pytest.mark.parametrize(
        "addresses",
        [("169.254.169.254",), ("93.184.216.34", "169.254.169.254"), ("fd00:ec2::254",)],
    )
    async def test_a_name_resolving_to_a_metadata_address_is_refused_whole(
        self, addresses: tuple[str, ...]
    ) -> None:
        resolver = CheckedResolver(rules(allow_private=True), answering(*addresses))
        with pytest.raises(JiraAddressRefused, match="link-local or cloud metadata"):
            await resolver.resolve("169.254.169.254.nip.io", 443)

    async def test_private_addresses_follow_the_setting(self) -> None:
        lookup = answering("10.0.0.5")
        with pytest.raises(JiraAddressRefused, match="allow_private_jira_hosts"):
            await CheckedResolver(rules(allow_private=False), lookup).resolve("jira.corp", 8080)
        (result,) = await CheckedResolver(rules(allow_private=True), lookup).resolve(
            "jira.corp", 8080
        )
        assert (result["hostname"], result["host"], result["port"]) == (
            "jira.corp",
            "10.0.0.5",
            8080,
        )
        assert result["family"] == socket.AF_INET

    async def test_every_allowed_address_is_answered_in_order(self) -> None:
        resolver = CheckedResolver(
            rules(allow_private=True), answering("2001:db8::1", "93.184.216.34")
        )
        results = await resolver.resolve("acme.atlassian.net", 443)
        assert [(r["host"], r["family"]) for r in results] == [
            ("2001:db8::1", socket.AF_INET6),
            ("93.184.216.34", socket.AF_INET),
        ]

    async def test_a_name_that_is_no_dns_name_is_refused_in_plain_words(self) -> None:
        resolver = CheckedResolver(rules(allow_private=True), invalid_name)
        with pytest.raises(JiraAddressRefused, match="a..b is not a valid host name"):
            await resolver.resolve("a..b", 443)


@pytest.mark.parametrize(
    ("failure", "becomes", "never_sent"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout, True),
        (
            aiohttp.ClientConnectorError(KEY, ConnectionRefusedError(111, "refused")),
            httpx.ConnectError,
            True,
        ),
        (aiohttp.ClientConnectorDNSError(KEY, OSError("no such name")), httpx.ConnectError, True),
        (
            aiohttp.ClientConnectorCertificateError(KEY, ssl.SSLCertVerificationError("bad")),
            httpx.ConnectError,
            True,
        ),
        (aiohttp.InvalidURL("http://[::1"), httpx.UnsupportedProtocol, True),
        (aiohttp.NonHttpUrlClientError("ftp://x"), httpx.UnsupportedProtocol, True),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout, False),
        (aiohttp.ServerTimeoutError("timeout"), httpx.ReadTimeout, False),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, False),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.NetworkError, False),
        (
            aiohttp.ClientConnectionResetError("Cannot write to closing transport"),
            httpx.NetworkError,
            False,
        ),
        (aiohttp.ClientPayloadError("Response payload is not completed"), httpx.ReadError, False),
        (
            aiohttp.ClientResponseError(REQUEST_INFO, (), message="Invalid constant string"),
            httpx.RemoteProtocolError,
            False,
        ),
        (aiohttp.ClientError("anything else"), httpx.TransportError, False),
    ],
)
def test_an_aiohttp_failure_says_whether_the_request_can_have_left(
    failure: aiohttp.ClientError, becomes: type[httpx.TransportError], never_sent: bool
) -> None:
    """Only a failure before the connection was made may be repeated for a POST: anything
    after it (a dropped connection, a read timeout) may follow a request Jira applied."""
    error = transport_error(failure)
    assert type(error) is becomes
    assert isinstance(error, NOT_SENT) is never_sent
    assert str(error)


Behaviour = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server on 127.0.0.1 that reads each request whole, records it, and then does what
    `behaviour` says: answer, drop the connection, or say nothing."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                await self.behaviour(request, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RawServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self
            server.close()


def answer(status: bytes, headers: list[bytes], body: bytes) -> Behaviour:
    async def behaviour(request: bytes, writer: asyncio.StreamWriter) -> None:
        lines = [b"HTTP/1.1 " + status, *headers, b"Content-Length: %d" % len(body)]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()

    return behaviour


async def drop(request: bytes, writer: asyncio.StreamWriter) -> None:
    """Jira applied the request, then the connection was lost before its answer."""
    raise ConnectionResetError


async def say_nothing(request: bytes, writer: asyncio.StreamWriter) -> None:
    await asyncio.Event().wait()


async def no_wait(seconds: float) -> None:
    pass


def wire_client(port: int, **options: Any) -> JiraClient:
    return JiraClient(
        base_url=f"http://jira.test:{port}",
        user_name=SIM_USER,
        secret=SIM_TOKEN,
        transport=CheckedAddressTransport(
            allow_private=True,
            limits=httpx.Limits(max_connections=4),
            resolver=answering("127.0.0.1"),
        ),
        sleep=no_wait,
        **options,
    )


COMMENT = b'{"id": "10001", "body": "hello"}'


class TestOnTheWire:
    """The transport against real sockets: what reaches the server, and what the client makes
    of each way a call can fail."""

    async def test_the_request_is_httpx_s_and_the_answer_is_decoded(self) -> None:
        body = gzip.compress(COMMENT)
        headers = [
            b"Content-Type: application/json",
            b"Content-Encoding: gzip",
            b"X-Seen: a",
            b"X-Seen: b",
        ]
        async with RawServer(answer(b"201 Created", headers, body)).running() as server:
            async with wire_client(server.port) as client:
                comment = await client.add_comment("ABC-1", "hello")
                response = await client._http._http.get("/x")  # the same answer, headers whole
        assert comment.id == "10001"
        assert response.headers.get_list("x-seen") == ["a", "b"]
        head, _, sent = server.requests[0].partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        assert lines[0] == "POST /rest/api/2/issue/ABC-1/comment HTTP/1.1"
        names = [line.split(":")[0].lower() for line in lines[1:]]
        assert sorted(names) == sorted(
            [
                "host",
                "accept",
                "accept-encoding",
                "connection",
                "user-agent",
                "content-length",
                "content-type",
                "authorization",
            ]
        )
        assert f"host: jira.test:{server.port}" in lines
        assert "user-agent: helpdesk-jira-sync/0.1" in lines
        assert sent == b'{"body":"hello"}'

    async def test_jira_s_cookies_are_never_sent_back(self) -> None:
        """Each call authenticates on its own; a session cookie would tie the next to it."""
        headers = [b"Set-Cookie: JSESSIONID=abc; Path=/", b"Content-Type: application/json"]
        body = b'{"accountId": "1", "displayName": "Helpdesk Integration"}'
        async with RawServer(answer(b"200 OK", headers, body)).running() as server:
            async with wire_client(server.port) as client:
                await client.myself()
                await client.myself()
                assert not client._http._http.cookies
        assert [b"cookie:" in request.lower() for request in server.requests] == [False, False]

    @pytest.mark.parametrize(
        ("behaviour", "timeout", "failure"),
        [(drop, 20.0, "RemoteProtocolError"), (say_nothing, 0.2, "ReadTimeout")],
        ids=["connection dropped after the request", "no answer in time"],
    )
    async def test_a_post_that_can_have_been_applied_is_never_repeated(
        self, behaviour: Behaviour, timeout: float, failure: str
    ) -> None:
        async with RawServer(behaviour).running() as server:
            async with wire_client(server.port, timeout=timeout) as client:
                with pytest.raises(JiraAmbiguousResult, match=f"{failure}.*may have been sent"):
                    await client.add_comment("ABC-1", "hello")
        assert len(server.requests) == 1

    async def test_a_read_whose_connection_drops_is_repeated(self) -> None:
        async with RawServer(drop).running() as server:
            async with wire_client(server.port, max_retries=2) as client:
                with pytest.raises(JiraUnavailable, match="RemoteProtocolError"):
                    await client.myself()
        assert len(server.requests) == 3

    async def test_a_post_nobody_received_is_repeated(self) -> None:
        """A refused connection: nothing left, so the POST is tried again."""
        async with RawServer(drop).running() as server:
            port = server.port
        async with wire_client(port, max_retries=2) as client:
            with pytest.raises(JiraUnavailable, match="ConnectError"):
                await client.add_comment("ABC-1", "hello")
        assert server.requests == []

    async def test_the_next_checked_address_is_tried_when_one_refuses(self) -> None:
        ok = answer(b"200 OK", [b"Content-Type: application/json"], b"{}")
        async with RawServer(ok).running() as server:
            transport = CheckedAddressTransport(
                allow_private=True,
                limits=httpx.Limits(),
                resolver=answering("127.0.0.2", "127.0.0.1"),
            )
            async with httpx.AsyncClient(transport=transport) as client:
                response = await client.get(f"http://jira.test:{server.port}/")
        assert response.status_code == 200
        assert len(server.requests) == 1

    @pytest.mark.parametrize(
        ("allow_private", "host", "refusal"),
        [
            (False, "127.0.0.1", "allow_private_jira_hosts"),
            (True, "169.254.169.254", "link-local or cloud metadata"),
            (True, "[fd00:ec2::254]", "link-local or cloud metadata"),
        ],
    )
    async def test_an_address_written_as_the_host_is_checked_too(
        self, allow_private: bool, host: str, refusal: str
    ) -> None:
        async with RawServer(drop).running() as server:
            transport = CheckedAddressTransport(allow_private=allow_private, limits=httpx.Limits())
            async with httpx.AsyncClient(transport=transport) as client:
                with pytest.raises(JiraAddressRefused, match=refusal):
                    await client.get(f"http://{host}:{server.port}/")
        assert server.requests == []

    async def test_a_failed_lookup_is_a_connection_error_and_nothing_is_sent(self) -> None:
        transport = CheckedAddressTransport(
            allow_private=True, limits=httpx.Limits(), resolver=failing_lookup
        )
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError, match="nowhere.example"):
                await client.post("http://nowhere.example/", content=b"x")


@pytest.fixture
async def live_sim() -> AsyncIterator[JiraSimulator]:
    """The simulator on a real local port, so connections go through the real transport."""
    sim = JiraSimulator(seed=True, base_url="http://placeholder")
    async with sim.serve() as server:
        sim.base_url = server.base_url.replace("127.0.0.1", "localhost")
        yield sim


class TestJiraClientConnections:
    async def test_a_loopback_jira_is_reached_when_private_hosts_are_allowed(
        self, live_sim: JiraSimulator
    ) -> None:
        async with JiraClient(
            base_url=live_sim.base_url, user_name=SIM_USER, secret=SIM_TOKEN, allow_private=True
        ) as client:
            me = await client.myself()
        assert me.display_name == "Helpdesk Integration"

    async def test_the_setting_reaches_the_clients_and_nothing_is_sent(
        self, live_sim: JiraSimulator
    ) -> None:
        answer = await connection_test_for(live_sim.base_url, allow_private=False)
        assert answer.success is False
        assert answer.message.startswith("HostName localhost resolves to ")
        assert "allow_private_jira_hosts" in answer.message
        assert live_sim.request_log.entries == []

    @pytest.mark.parametrize("host", ["http://a..b", "http://" + "a" * 70 + ".example"])
    async def test_a_host_name_saved_before_it_was_checked_is_reported_not_a_crash(
        self, host: str
    ) -> None:
        answer = await connection_test_for(host, allow_private=True)
        assert answer.success is False
        assert "is not a valid host name" in answer.message


class TestTlsSettings:
    async def test_every_client_verifies_certificates_with_one_context_made_once(self) -> None:
        """Loading the CA bundle costs tens of milliseconds: each Jira client, connection check
        and the event sender share the one context, and it verifies host and certificate."""
        transports = [
            CheckedAddressTransport(allow_private=True, limits=httpx.Limits()),
            CheckedAddressTransport(
                allow_private=False, limits=httpx.Limits(), element="URL", setting="s"
            ),
        ]
        connectors = [transport._connector() for transport in transports]
        contexts = {id(connector._ssl) for connector in connectors}
        for connector in connectors:
            await connector.close()
        assert contexts == {id(default_tls())}
        assert default_tls().verify_mode == ssl.CERT_REQUIRED
        assert default_tls().check_hostname is True
        assert default_tls().get_ca_certs()  # certifi's bundle is loaded


async def connection_test_for(host_name: str, *, allow_private: bool) -> ConnectionTestOut:
    """An instance's Test for a saved HostName, with the pool the settings give."""
    pool = JiraClientPool.from_settings(PoolSettings(allow_private_jira_hosts=allow_private))
    instance = JiraInstance(
        id=7,
        name="Saved",
        host_name=host_name,
        user_name=SIM_USER,
        api_token_encrypted=SecretBox(SECRET_KEY).encrypt(SIM_TOKEN),
    )
    try:
        services = Services(pool, SecretBox(SECRET_KEY))
        return await check_connection(
            services, instance, timeout=5, public_url="http://helpdesk.test"
        )
    finally:
        await pool.aclose()


async def test_a_link_job_to_a_name_now_resolving_to_a_forbidden_address_ends_in_error(
    make_settings: Any, db: Any
) -> None:
    """The HostName passed the check when saved; its name now resolves to a loopback address,
    which this service is configured to refuse: the link ends in Error, in plain words, without
    retries and without a request."""
    application = create_app(make_settings(allow_private_jira_hosts=False))
    async with started(application), api_client(application) as client:
        await ready_helpdesk(client, "https://jira.example.com")
        async with application.state.session_factory() as session:
            await session.execute(
                update(JiraInstance)
                .where(col(JiraInstance.id) == 1)
                .values(host_name="http://localhost:9")
            )
            await session.commit()
        ticket = await create_ticket(client, JiraKey="DEMO-1")
        await drain(application)
        linked = await get_ticket(client, ticket["ID"])
        assert linked["JiraSyncStatus"] == "Error"
        (line,) = [text for text in await history(client, ticket["ID"]) if "resolves" in text]
        assert "HostName localhost resolves to " in line
        assert "allow_private_jira_hosts" in line
        assert "nothing was sent to it" in line
        (job,) = await jobs_of_kind(application, "jira.link_ticket")
        assert (job.status, job.attempts) == ("failed", 1)
