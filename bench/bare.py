"""The floor of this stack, as #15 defines it: FastAPI + asyncpg that verifies the delivery's
HMAC signature and inserts its body once per delivery id. The service's webhook ingest (verify,
de-duplicate, decide, store, enqueue) is compared against this."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response

SECRET = os.environ["BARE_WEBHOOK_SECRET"].encode()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=5, max_size=10)
    async with pool.acquire() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bare_deliveries "
            "(id bigserial PRIMARY KEY, delivery_id text UNIQUE NOT NULL, body text)"
        )
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/ingest")
async def ingest(request: Request) -> Response:
    body = await request.body()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(request.headers.get("x-hub-signature", ""), expected):
        return Response(status_code=401)
    async with request.app.state.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO bare_deliveries (delivery_id, body) VALUES ($1, $2) "
            "ON CONFLICT (delivery_id) DO NOTHING",
            request.headers.get("x-atlassian-webhook-identifier", ""),
            body.decode(),
        )
    return Response(status_code=202)
