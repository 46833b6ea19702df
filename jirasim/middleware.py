"""ASGI middleware: records each request and applies the matching fault rule."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jirasim.faults import BURST_LIMIT, Fault, FaultRegistry, SimulatedDisconnect
from jirasim.recorder import RecordedRequest, RequestLog


class FaultAndRecordMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        faults: FaultRegistry,
        log: RequestLog,
        cloud: Callable[[], bool] = lambda: True,
    ) -> None:
        self.app = app
        self.faults = faults
        self.log = log
        self.cloud = cloud

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry = self.log.start(
            scope["method"], scope["path"], scope["query_string"].decode(), headers, body
        )
        fault = self.faults.match(scope["method"], scope["path"])
        if fault is not None:
            entry.fault_id = fault.id
            if fault.delay:
                await asyncio.sleep(fault.delay)
        replay = _replay(body)

        async def record_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        if fault is None or not fault.replaces_answer():
            await self.app(scope, replay, record_send)
            return
        if fault.after_write:

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, replay, swallow)
        await _fail(fault, entry, send, cloud=self.cloud())


async def _fail(fault: Fault, entry: RecordedRequest, send: Send, *, cloud: bool) -> None:
    if fault.drop:
        entry.dropped = True
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id":', "more_body": True})
        raise SimulatedDisconnect("Simulated dropped connection: response incomplete.")
    status = fault.status or 500
    entry.status = status
    payload = json.dumps(fault.response_body()).encode()
    headers = [(b"content-type", b"application/json;charset=UTF-8")]
    answer_headers = fault.response_headers()
    if status == 429 and cloud:
        # Jira Cloud names the limit a 429 comes from; a burst is what a test's 429 usually is.
        answer_headers.setdefault("RateLimit-Reason", BURST_LIMIT)
    headers += [(k.lower().encode(), v.encode()) for k, v in answer_headers.items()]
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False
    never = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    return receive
