"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.migrations import pending_revisions

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and its migrations are current")
async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        pending = await pending_revisions(engine)
    except Exception as exc:  # any database failure means "not ready", reported, never raised
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, 503)
    if pending:
        return JSONResponse({"status": "migrations pending", "pending": pending}, 503)
    return JSONResponse({"status": "ready"})
