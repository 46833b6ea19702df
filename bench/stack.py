"""The processes a benchmark run needs, all on this machine: a throw-away PostgreSQL database,
the Jira simulator, the service under uvicorn, the bare stack, and separate workers."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from tests.support.live import free_port, stop_process, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
JIRA_USER, JIRA_TOKEN = "integration@example.com", "demo-token"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"


@dataclass
class Stack:
    workdir: Path
    database: str
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    sim_url: str = ""
    app_url: str = ""
    app: subprocess.Popen[bytes] | None = None
    sim: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_peaks_mb: list[float] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{self.database}"

    @property
    def database_url(self) -> str:
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TEST_")}
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=self.database_url,
            BARE_DSN=self.dsn,
            BARE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            HOST="127.0.0.1",
            API_TOKEN=self.api_token,
            SECRET_KEY=self.secret_key,
            LOG_LEVEL="WARNING",
            RUN_WORKER="false",
            RECONCILE_INTERVAL_SECONDS="0",
        )
        env.update(extra)
        return env

    def spawn(self, args: list[str], log_name: str, **extra: str) -> subprocess.Popen[bytes]:
        with (self.workdir / log_name).open("ab") as log:
            return subprocess.Popen(
                [sys.executable, *args],
                cwd=self.workdir,
                env=self.env(**extra),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


async def create_database(name: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def postgres_version() -> str:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited with code {process.returncode}")
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running_stack(workdir: Path) -> AsyncIterator[Stack]:
    """A fresh `bench_<timestamp>` database (migrated), the simulator and the service (API only,
    `RUN_WORKER=false`; workers are started separately). Everything is stopped and dropped at
    the end."""
    stack = Stack(workdir, f"bench_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}")
    await create_database(stack.database)
    try:
        migrate = stack.spawn(["-m", "app", "migrate"], "migrate.log")
        if await asyncio.to_thread(migrate.wait) != 0:
            raise RuntimeError("migrations failed:\n" + stack.log_tail("migrate.log"))
        sim_port, app_port = free_port(), free_port()
        stack.sim_url = f"http://127.0.0.1:{sim_port}"
        stack.app_url = f"http://127.0.0.1:{app_port}"
        stack.sim = stack.spawn(["-m", "jirasim", "--port", str(sim_port)], "jira-sim.log")
        stack.app = stack.spawn(
            ["-m", "app", "serve"], "service.log", PORT=str(app_port), PUBLIC_URL=stack.app_url
        )
        await wait_until_ready(stack.app_url, stack.app)
        await wait_http(f"{stack.sim_url}/rest/api/2/serverInfo", stack.sim)
        yield stack
    finally:
        stop_workers(stack)
        if stack.app is not None:
            stop_process(stack.app)
        if stack.sim is not None:
            stop_process(stack.sim)
        await drop_database(stack.database)


def start_workers(stack: Stack, count: int, **settings: str) -> None:
    """`count` worker processes, with `settings` (e.g. WORKER_CONCURRENCY) in their environment."""
    for _ in range(count):
        stack.workers.append(stack.spawn(["-m", "app", "worker"], "worker.log", **settings))


def stop_workers(stack: Stack) -> None:
    from bench.processes import peak_rss_mb

    for worker in stack.workers:
        if worker.poll() is None:
            stack.worker_peaks_mb.append(peak_rss_mb(worker.pid))
        stop_process(worker)
    stack.workers.clear()


@asynccontextmanager
async def shipped_service(
    stack: Stack, log_level: str = "INFO", *, run_worker: bool = True
) -> AsyncIterator[tuple[str, int]]:
    """A second service process as `python -m app serve` ships: its worker in-process and INFO
    logs (an access line per request; `log_level` and `run_worker` to compare), on the same
    database; its URL and process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = stack.spawn(
        ["-m", "app", "serve"],
        "shipped.log",
        PORT=str(port),
        PUBLIC_URL=url,
        RUN_WORKER=str(run_worker).lower(),
        LOG_LEVEL=log_level,
    )
    try:
        await wait_until_ready(url, process)
        yield url, process.pid
    finally:
        stop_process(process)


@asynccontextmanager
async def bare_server(stack: Stack) -> AsyncIterator[tuple[str, int]]:
    """`bench/bare.py` under uvicorn (one process, like the service), on the same database, with
    uvicorn's access log at INFO: the same treatment as the service's default; its URL and
    process id."""
    port = free_port()
    process = stack.spawn(
        [
            "-m",
            "uvicorn",
            "bench.bare:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--access-log",
            "--log-level",
            "info",
        ],
        "bare.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(f"{url}/docs", process)
        yield url, process.pid
    finally:
        stop_process(process)
