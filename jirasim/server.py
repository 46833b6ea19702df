"""Serving the simulator over real HTTP: embedded in a test's event loop, or standalone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import uvicorn

from jirasim.faults import SimulatedDisconnect

if TYPE_CHECKING:
    from jirasim.simulator import JiraSimulator


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _QuietDisconnects(logging.Filter):
    """Keeps uvicorn from logging a traceback for each simulated dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedDisconnect))


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDisconnects) for f in logger.filters):
        logger.addFilter(_QuietDisconnects())


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that reports readiness and leaves the test runner's signals alone."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve(
    sim: JiraSimulator, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningServer]:
    """Run `sim` under uvicorn in the current event loop on a free port while the block runs."""
    _install_log_filter()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    running = RunningServer(host, sock.getsockname()[1])
    config = uvicorn.Config(sim.app, lifespan="off", log_level="warning", access_log=False)
    server = _EmbeddedServer(config)
    previous_base = sim.base_url
    sim.base_url = running.base_url
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            ready.cancel()
            await task
            raise RuntimeError("the simulator's server did not start")
        yield running
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
        sim.base_url = previous_base


def run(
    host: str = "127.0.0.1",
    port: int = 8090,
    seed: bool = True,
    flavor: Literal["cloud", "server"] = "cloud",
) -> None:
    """Run a simulator standalone until interrupted (`python -m jirasim`)."""
    from jirasim.simulator import JiraSimulator

    _install_log_filter()
    sim = JiraSimulator(seed=seed, base_url=f"http://{host}:{port}", flavor=flavor)
    uvicorn.run(sim.app, host=host, port=port, log_level="info")
