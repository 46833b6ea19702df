"""Command line: `python -m app serve | worker | migrate | openapi | jira-sim`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from app.core.settings import Settings


def _fail(message: str) -> NoReturn:
    """A configuration problem: one plain sentence and exit status 2, no traceback."""
    print(f"python -m app: {message}", file=sys.stderr)
    raise SystemExit(2)


def _settings() -> Settings:
    from pydantic import ValidationError

    from app.core.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        # Names and reasons only: the rejected values may be secrets.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        _fail(f"invalid settings ({problems}). Set them in the environment or in .env.")


def _serve(_args: argparse.Namespace) -> None:
    import uvicorn

    from app.core.settings import ensure_local_secrets

    try:
        token = ensure_local_secrets()
    except OSError as exc:
        _fail(
            "API_TOKEN and SECRET_KEY are not set, and .env could not keep new ones "
            f"({exc.strerror}). Set both in the environment (for a container: "
            "docker run -e API_TOKEN=... -e SECRET_KEY=...)."
        )
    if token:
        print(
            "Wrote new API_TOKEN and SECRET_KEY to .env (keep it private).\n"
            f"Your API token (shown once): {token}",
            file=sys.stderr,
        )
    settings = _settings()
    print(
        f"Admin console: http://{settings.host}:{settings.port}/console "
        "(sign in with the API token)",
        file=sys.stderr,
    )
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        proxy_headers=True,  # trusted proxies from FORWARDED_ALLOW_IPS (uvicorn reads it)
        access_log=False,
        log_config=None,
    )


def _worker(_args: argparse.Namespace) -> None:
    from uvicorn.loops.auto import auto_loop_factory

    from app.wiring import run_worker_forever

    _settings()  # checked (and cached) before the worker starts
    # The event loop `serve` runs on: uvloop where it is installed (uvicorn[standard] brings
    # it). A worker's jobs are round trips to the database and to Jira; the default loop's
    # socket handling costs about a fifth of a worker's CPU.
    with asyncio.Runner(loop_factory=auto_loop_factory()) as runner:
        runner.run(run_worker_forever())


def _migrate(_args: argparse.Namespace) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from app.core.db import create_engine, is_sqlite_url
    from app.core.migrations import upgrade_to_head
    from app.core.settings import DEFAULT_DATABASE_URL
    from app.main import _ensure_sqlite_directory

    url = os.environ.get("DATABASE_URL") or _dotenv_value("DATABASE_URL") or DEFAULT_DATABASE_URL

    async def run() -> None:
        if is_sqlite_url(url):
            _ensure_sqlite_directory(url)
        engine = create_engine(url)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (OSError, SQLAlchemyError) as exc:
        try:
            where = make_url(url).render_as_string(hide_password=True)
        except SQLAlchemyError:
            where = "DATABASE_URL"
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        _fail(f"cannot migrate the database at {where}: {reason}")
    print("Database is at the latest migration.")


def _dotenv_value(name: str) -> str | None:
    env_file = Path(".env")
    if not env_file.exists():
        return None
    for line in env_file.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    return None


def render_openapi(app: Any) -> str:
    """The spec exactly as committed in `openapi/openapi.json`."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def _openapi(args: argparse.Namespace) -> None:
    from app.main import create_app

    spec = render_openapi(create_app())
    if args.output == "-":
        sys.stdout.write(spec)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(spec)


def _jira_sim(args: argparse.Namespace) -> None:
    from jirasim.server import run

    run(host=args.host, port=args.port, seed=not args.empty, flavor=args.flavor)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the API (and the sync worker unless RUN_WORKER=false)")
    commands.add_parser("worker", help="run a sync worker alone")
    commands.add_parser("migrate", help="apply database migrations")
    openapi = commands.add_parser("openapi", help="write the OpenAPI spec")
    openapi.add_argument("--output", default="openapi/openapi.json")
    sim = commands.add_parser("jira-sim", help="run the Jira REST simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.add_argument("--empty", action="store_true", help="start without the demo projects")
    sim.add_argument(
        "--flavor",
        choices=["cloud", "server"],
        default="cloud",
        help="answer as Jira Cloud does today (default) or as Jira Server/Data Center",
    )
    args = parser.parse_args(argv)
    handlers = {
        "serve": _serve,
        "worker": _worker,
        "migrate": _migrate,
        "openapi": _openapi,
        "jira-sim": _jira_sim,
    }
    handlers[args.command](args)


if __name__ == "__main__":
    main()
