"""The floor of this stack: FastAPI + asyncpg that only inserts the raw body. The service's
webhook ingest (verify, de-duplicate, store, enqueue) is compared against this."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=5, max_size=10)
    async with pool.acquire() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bare_deliveries (id bigserial PRIMARY KEY, body text)"
        )
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/ingest")
async def ingest(request: Request) -> Response:
    body = await request.body()
    async with request.app.state.pool.acquire() as connection:
        await connection.execute("INSERT INTO bare_deliveries (body) VALUES ($1)", body.decode())
    return Response(status_code=202)
