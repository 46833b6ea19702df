"""A helpdesk's event receiver for the tests: verifies each event's Standard Webhooks signature
with the `standardwebhooks` package, answers as scripted (e.g. 500 three times, then 200, or
410), and keeps every attempt. In process (`Receiver.app` behind `httpx.ASGITransport`) or as a
real process (`python -m tests.support.receiver --port … --secret … --log …`), which keeps its
attempts in a JSON-lines file across restarts.

Control: `POST /_script` `{"statuses": [500, 500, 500], "delay": 0}`; `GET /_received` the
attempts, oldest first."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Attempt:
    webhook_id: str
    timestamp: str
    signature: str
    verified: bool
    answered: int
    body: str
    received_at: float

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    secret: str
    log: Path | None = None
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    retry_after: str | None = None  # sent with every answer that is not a 2xx
    hold: asyncio.Event | None = None  # in process: each answer waits until it is set

    def script(self, *statuses: int, delay: float = 0.0, retry_after: str | None = None) -> None:
        self.statuses = list(statuses)
        self.delay = delay
        self.retry_after = retry_after

    def received(self) -> list[Attempt]:
        if self.log is None:
            return list(self.attempts)
        if not self.log.exists():
            return []
        text = self.log.read_text()
        # The receiver's process may be writing a line: only whole lines are attempts.
        lines = text[: text.rfind("\n") + 1].splitlines()
        return [Attempt(**json.loads(line)) for line in lines if line.strip()]

    def delivered(self) -> list[Attempt]:
        """The attempts answered 2xx with a valid signature."""
        return [a for a in self.received() if a.verified and 200 <= a.answered < 300]

    async def wait_for(
        self, predicate: Callable[[list[Attempt]], bool], timeout: float = 10.0
    ) -> list[Attempt]:
        """Until the attempts so far satisfy `predicate` (woken by each arrival)."""
        async with asyncio.timeout(timeout):
            while True:
                attempts = self.received()
                if predicate(attempts):
                    return attempts
                self.arrived.clear()
                await self.arrived.wait()

    def _record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.write(json.dumps(asdict(attempt)) + "\n")
        self.arrived.set()

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if path == "/_received" and method == "GET":
            payload = json.dumps([asdict(a) for a in self.received()]).encode()
            await _answer(send, 200, payload)
            return
        if path == "/_script" and method == "POST":
            wanted = json.loads(body or b"{}")
            self.script(*wanted.get("statuses", []), delay=float(wanted.get("delay", 0)))
            await _answer(send, 204, b"")
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        if self.hold is not None:
            self.arrived.set()
            await self.hold.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = (self.statuses.pop(0) if self.statuses else 200) if verified else 401
        self._record(
            Attempt(
                webhook_id=headers.get("webhook-id", ""),
                timestamp=headers.get("webhook-timestamp", ""),
                signature=headers.get("webhook-signature", ""),
                verified=verified,
                answered=status,
                body=body.decode(),
                received_at=time.time(),
            )
        )
        extra = {"retry-after": self.retry_after} if self.retry_after and status >= 300 else {}
        await _answer(send, status, b"", extra)


async def _answer(
    send: Send, status: int, body: bytes, extra: dict[str, str] | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    receiver = Receiver(args.secret, args.log)
    uvicorn.run(
        receiver.app, host="127.0.0.1", port=args.port, log_level="warning", interface="asgi3"
    )


if __name__ == "__main__":
    main()


@dataclass
class ReceiverProcess:
    """A receiver running as its own process (started, stopped and started again on one port);
    `receiver` reads what it kept."""

    port: int
    receiver: Receiver
    process: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        import subprocess
        import sys

        import httpx

        from tests.support.live import ROOT

        assert self.receiver.log is not None
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.receiver",
                "--port",
                str(self.port),
                "--secret",
                self.receiver.secret,
                "--log",
                str(self.receiver.log),
            ],
            cwd=ROOT,
        )
        # A separate process offers no event to await: poll until it answers.
        async with httpx.AsyncClient(timeout=1.0) as http:
            for _ in range(200):
                try:
                    await http.get(f"http://127.0.0.1:{self.port}/_received")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise TimeoutError("the receiver did not start")

    def stop(self) -> None:
        from tests.support.live import stop_process

        if self.process is not None:
            stop_process(self.process)
            self.process = None

    async def script(self, *statuses: int, delay: float = 0.0) -> None:
        import httpx

        async with httpx.AsyncClient() as http:
            await http.post(
                f"http://127.0.0.1:{self.port}/_script",
                json={"statuses": list(statuses), "delay": delay},
            )
