"""Running the service for real: `python -m app serve` (or `worker`) as a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveService:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def wait_until_ready(
    base_url: str, process: subprocess.Popen[bytes], timeout: float = 30.0
) -> None:
    """Poll /readyz: a separate process offers no event to await, so this is the one wait."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited early with code {process.returncode}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the service at {base_url} did not become ready")
            await asyncio.sleep(0.05)


def service_env(
    database_url: str, port: int, api_token: str, secret_key: str, **extra: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEST_")}
    env.update(
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT=str(port),
        API_TOKEN=api_token,
        SECRET_KEY=secret_key,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@asynccontextmanager
async def live_service(
    env: dict[str, str], workdir: Path, command: str = "serve", wait: bool = True
) -> AsyncIterator[LiveService]:
    """Start `python -m app <command>` in `workdir`; stopped (SIGTERM, then SIGKILL) at exit."""
    log_path = workdir / f"{command}-{env['PORT']}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", command],
            cwd=workdir,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    service = LiveService(f"http://127.0.0.1:{env['PORT']}", process, log_path)
    try:
        if wait and command == "serve":
            await wait_until_ready(service.base_url, process)
        yield service
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
