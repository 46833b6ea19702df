"""Sending one event: Standard Webhooks headers the `standardwebhooks` package verifies, the
egress rules at connect time, no redirects, every outcome an Answer."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook

from app.core.settings import Settings
from app.jira.egress import CheckedAddressTransport
from app.outgoing.rules import Answer, Verdict, judge
from app.outgoing.sender import (
    EventSender,
    event_sender,
    new_secret,
    secret_problem,
    signed_headers,
)
from tests.support.receiver import Receive, Receiver, Scope, Send

BODY = '{"type":"ping","timestamp":"2026-11-30T12:00:00+00:00","data":{}}'


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert new_secret() != secret


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("whsec_" + base64.b64encode(b"k" * 24).decode(), None),
        ("whsec_" + base64.b64encode(b"k" * 64).decode(), None),
        ("whsec_" + base64.b64encode(b"k" * 23).decode(), "24 to 64 bytes"),
        ("whsec_" + base64.b64encode(b"k" * 65).decode(), "24 to 64 bytes"),
        ("whsec_not base64!", "base64"),
        (base64.b64encode(b"k" * 32).decode(), "whsec_"),
    ],
)
def test_secret_problem(secret: str, problem: str | None) -> None:
    found = secret_problem(secret)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_the_headers_verify_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    moment = datetime.now(UTC)
    headers = signed_headers(secret, "msg_1", BODY, moment)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(moment.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == {
        "type": "ping",
        "timestamp": "2026-11-30T12:00:00+00:00",
        "data": {},
    }
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.fixture
async def receiver_sender() -> AsyncIterator[tuple[Receiver, EventSender]]:
    receiver = Receiver(new_secret())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app), timeout=1.0)
    yield receiver, EventSender(client)
    await client.aclose()


class TestSend:
    async def test_each_attempt_is_signed_anew_with_the_same_id(
        self, receiver_sender: tuple[Receiver, EventSender]
    ) -> None:
        receiver, sender = receiver_sender
        receiver.script(503)
        first = await sender.send("http://r.test/hook", receiver.secret, "msg_7", BODY)
        second = await sender.send("http://r.test/hook", receiver.secret, "msg_7", BODY)
        assert (first, second) == (Answer(503), Answer(200))
        assert [a.webhook_id for a in receiver.received()] == ["msg_7", "msg_7"]
        assert all(a.verified for a in receiver.received())

    async def test_a_slow_receiver_is_an_answer_not_an_exception(
        self, receiver_sender: tuple[Receiver, EventSender]
    ) -> None:
        receiver, sender = receiver_sender
        receiver.hold = asyncio.Event()
        answer = await sender.send(
            "http://r.test/hook", receiver.secret, "msg_1", BODY, timeout=0.05
        )
        receiver.hold.set()
        assert answer == Answer(error="The receiver did not answer in time.")
        assert judge(answer) is Verdict.RETRY

    async def test_a_receiver_s_cookies_are_never_sent_back(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        cookies: list[bytes | None] = []

        async def setting_a_cookie(scope: Scope, receive: Receive, send: Send) -> None:
            cookies.append(dict(scope["headers"]).get(b"cookie"))
            headers = [(b"set-cookie", b"session=abc; Path=/")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})

        transport = httpx.ASGITransport(app=setting_a_cookie)
        async with event_sender(make_settings(), transport) as sender:
            for event in ("m1", "m2"):
                assert await sender.send("http://r.test/hook", new_secret(), event, BODY) == (
                    Answer(204)
                )
        assert cookies == [None, None]

    async def test_a_redirect_is_not_followed(self) -> None:
        followed: list[str] = []

        async def redirecting(scope: Scope, receive: Receive, send: Send) -> None:
            followed.append(scope["path"])
            await send(
                {
                    "type": "http.response.start",
                    "status": 302,
                    "headers": [(b"location", b"http://169.254.169.254/latest")],
                }
            )
            await send({"type": "http.response.body", "body": b""})

        transport = httpx.ASGITransport(app=redirecting)
        async with httpx.AsyncClient(transport=transport, follow_redirects=False) as client:
            answer = await EventSender(client).send("http://r.test/hook", new_secret(), "m", BODY)
        assert answer.status_code == 302
        assert judge(answer) is Verdict.FAILED
        assert followed == ["/hook"]

    async def test_a_name_resolving_to_a_metadata_address_is_never_called(self) -> None:
        async def metadata(host: str, port: int) -> list[str]:
            return ["169.254.169.254"]

        transport = CheckedAddressTransport(
            allow_private=True,
            limits=httpx.Limits(),
            resolver=metadata,
            element="URL",
            setting="allow_private_event_urls",
        )
        async with httpx.AsyncClient(transport=transport) as client:
            answer = await EventSender(client).send(
                "http://hooks.example.com/x", new_secret(), "m", BODY
            )
        assert answer.refused
        assert answer.error == (
            "URL hooks.example.com resolves to 169.254.169.254: a link-local or cloud metadata "
            "address and is refused; nothing was sent to it."
        )
        assert judge(answer) is Verdict.FAILED

    async def test_nobody_listening_is_retried(self) -> None:
        from tests.support.live import free_port

        async with httpx.AsyncClient() as client:
            answer = await EventSender(client).send(
                f"http://127.0.0.1:{free_port()}/hook", new_secret(), "m", BODY
            )
        assert answer.status_code is None
        assert answer.error is not None
        assert answer.error.startswith("Could not reach the receiver: ConnectError")
        assert judge(answer) is Verdict.RETRY
