"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import EngineDep
from app.core.migrations import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and its migrations are current")
async def readyz(engine: EngineDep) -> JSONResponse:
    ready, answer = await readiness(engine)
    return JSONResponse(answer, 200 if ready else 503)
