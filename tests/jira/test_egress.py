"""Connect-time address checks: a HostName that resolves to a forbidden address is never called."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore
import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from app.core.security import SecretBox
from app.integration.diagnostics import test_connection as check_connection
from app.integration.models import JiraInstance
from app.integration.schemas import ConnectionTestOut
from app.integration.services import Services
from app.jira.client import JiraClient
from app.jira.egress import CheckedAddressBackend, CheckedAddressTransport, default_tls
from app.jira.errors import JiraAddressRefused
from app.jira.pool import JiraClientPool
from app.main import create_app
from jirasim import JiraSimulator
from tests.conftest import SECRET_KEY, SIM_TOKEN, SIM_USER, api_client, started
from tests.jira.test_pool import PoolSettings
from tests.support.helpdesk import create_ticket, get_ticket, history
from tests.support.jobs import drain, jobs_of_kind
from tests.support.world import ready_helpdesk


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where connections were opened; addresses in `unreachable` refuse them."""

    def __init__(self, unreachable: Iterable[str] = ()) -> None:
        self.connected: list[tuple[str, int]] = []
        self.unreachable = set(unreachable)

    async def connect_tcp(
        self, host: str, port: int, **options: Any
    ) -> httpcore.AsyncNetworkStream:
        if host in self.unreachable:
            raise httpcore.ConnectError(f"{host} refused the connection")
        self.connected.append((host, port))
        return httpcore.AsyncMockStream([])

    async def sleep(self, seconds: float) -> None:
        pass


def answering(*addresses: str) -> Any:
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


async def failing_lookup(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


class TestCheckedAddressBackend:
    @pytest.mark.parametrize(
        "addresses",
        [("169.254.169.254",), ("93.184.216.34", "169.254.169.254"), ("fd00:ec2::254",)],
    )
    async def test_a_name_resolving_to_a_metadata_address_is_never_connected(
        self, addresses: tuple[str, ...]
    ) -> None:
        inner = RecordingBackend()
        backend = CheckedAddressBackend(
            allow_private=True, resolver=answering(*addresses), inner=inner
        )
        with pytest.raises(JiraAddressRefused, match="link-local or cloud metadata"):
            await backend.connect_tcp("169.254.169.254.nip.io", 443)
        assert inner.connected == []

    async def test_private_addresses_follow_the_setting(self) -> None:
        inner = RecordingBackend()
        forbidding = CheckedAddressBackend(
            allow_private=False, resolver=answering("10.0.0.5"), inner=inner
        )
        with pytest.raises(JiraAddressRefused, match="allow_private_jira_hosts"):
            await forbidding.connect_tcp("jira.corp.example", 8080)
        allowing = CheckedAddressBackend(
            allow_private=True, resolver=answering("10.0.0.5"), inner=inner
        )
        await allowing.connect_tcp("jira.corp.example", 8080)
        assert inner.connected == [("10.0.0.5", 8080)]

    async def test_the_checked_address_is_the_one_connected_and_the_next_is_tried(self) -> None:
        inner = RecordingBackend(unreachable={"2001:db8::1"})
        backend = CheckedAddressBackend(
            allow_private=True, resolver=answering("2001:db8::1", "93.184.216.34"), inner=inner
        )
        await backend.connect_tcp("acme.atlassian.net", 443)
        assert inner.connected == [("93.184.216.34", 443)]

    async def test_a_failed_lookup_is_a_connection_error(self) -> None:
        backend = CheckedAddressBackend(
            allow_private=True, resolver=failing_lookup, inner=RecordingBackend()
        )
        with pytest.raises(httpcore.ConnectError, match="Could not look up nowhere.example"):
            await backend.connect_tcp("nowhere.example", 443)


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
    def test_every_client_verifies_certificates_with_one_context_made_once(self) -> None:
        """Loading the CA bundle costs tens of milliseconds: each Jira client, connection check
        and the event sender share the one context, and it verifies host and certificate."""
        transports = [
            CheckedAddressTransport(allow_private=True, limits=httpx.Limits()),
            CheckedAddressTransport(
                allow_private=False, limits=httpx.Limits(), element="URL", setting="s"
            ),
        ]
        contexts = {id(transport._pool._ssl_context) for transport in transports}
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
