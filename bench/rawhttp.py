"""A lean HTTP/1.1 keep-alive client for the load generator.

On a 2-core machine the load generator shares the CPU with the server it measures; httpx costs
several times more CPU per request than the request itself takes on the bare stack, so the load
process would become the bottleneck. This client does only what the benchmark needs: one request
at a time per connection, Content-Length or chunked answers, a bounded pool."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# uvicorn closes a keep-alive connection idle for 5 s. A request sent on one just as it closes
# fails without reaching the server: a client artefact, not the server's error, so connections
# idle longer than this are not reused.
MAX_IDLE_SECONDS = 2.0


class HttpError(Exception):
    pass


@dataclass
class Answer:
    status: int
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True
        self.idle_since = time.monotonic()

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, head: bytes, body: bytes) -> Answer:
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("connection closed")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                self.reusable = False
        if chunked:
            data = await self._read_chunks()
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data = await self.reader.read()
            self.reusable = False
        return Answer(status, data)

    async def _read_chunks(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await self.reader.readline()
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()


class RawClient:
    """`await client.request("POST", "/path", {"Header": "v"}, b"body")` -> Answer."""

    def __init__(self, base_url: str, max_connections: int = 256, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.max_connections = max_connections
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._open = 0
        self._freed = asyncio.Condition()

    async def _acquire(self) -> _Connection:
        async with self._freed:
            while True:
                self._drop_stale()
                if self._idle or self._open < self.max_connections:
                    break
                await self._freed.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            await self._release(None)
            raise
        return _Connection(reader, writer)

    def _drop_stale(self) -> None:
        """Close idle connections the server may be closing (oldest first in the list)."""
        now = time.monotonic()
        while self._idle and now - self._idle[0].idle_since > MAX_IDLE_SECONDS:
            self._idle.pop(0).close()
            self._open -= 1

    async def _release(self, connection: _Connection | None) -> None:
        async with self._freed:
            if connection is not None and connection.reusable:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                self._open -= 1
                if connection is not None:
                    connection.close()
            self._freed.notify()

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> Answer:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        connection = await self._acquire()
        try:
            answer = await asyncio.wait_for(connection.exchange(head, body), self.timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as exc:
            connection.reusable = False
            await self._release(connection)
            raise HttpError(str(exc) or type(exc).__name__) from exc
        await self._release(connection)
        return answer

    async def aclose(self) -> None:
        async with self._freed:
            for connection in self._idle:
                connection.close()
            self._idle.clear()
