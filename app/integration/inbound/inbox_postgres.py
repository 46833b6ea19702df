"""The Jira webhook inbox on PostgreSQL: a delivery stored in one statement.

Every Jira event for every project reaches the receiver, and Jira gives up on an answer after
20 seconds; so this path avoids the ORM and the explicit transaction. Per delivery it makes one
round trip on one pooled connection (two when the instance's credentials are not in memory, see
`webhook_credentials`): one statement that inserts the delivery unless its id was seen, decides
from the links whether it concerns tickets, and queues its apply job (atomic on its own). The
waker then wakes the workers (those of other processes by a NOTIFY sent apart: a NOTIFY in the
statement would make every delivery's commit wait for the others'). Same decisions as
`SessionInbox`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from pydantic import TypeAdapter

from app.core.db import asyncpg_dsn
from app.core.listen import listen_forever
from app.core.logging import get_logger
from app.integration.inbound.credentials import CHANNEL, WebhookCredentials
from app.integration.inbound.inbox import (
    SOURCE,
    InstanceAuth,
    NewDelivery,
    Outcome,
    Stored,
)
from app.integration.instances import instance_not_found
from app.integration.job_kinds import ApplyWebhook, issue_ordering_key
from app.jira.deliveries import ParsedDelivery
from app.jobs.metrics import JOBS_ENQUEUED
from app.jobs.wakeup import Waker

log = get_logger(__name__)

PARSED = TypeAdapter(ParsedDelivery | None)

INSTANCE = "SELECT sync_active, webhook_secret_encrypted FROM jira_instances WHERE id = $1"

# $1 delivery id, $2 instance id, $3 event, $4 body, $5 received at, $6 issue id,
# $7 outcome already decided (else NULL), $8 the apply job's ordering key, $9 the parsed delivery.
STORE = f"""
WITH linked AS (
    SELECT $7::text IS NULL AND EXISTS (
        SELECT 1 FROM jira_issues AS issue
        JOIN tickets AS ticket ON ticket.jira_issue_ref = issue.id
        WHERE issue.instance_id = $2::integer AND issue.issue_id = $6::text AND NOT issue.deleted
    ) AS yes
),
delivery AS (
    INSERT INTO webhook_deliveries
        (source, delivery_id, jira_instance_id, event, body, received_at, processed_at, outcome)
    SELECT '{SOURCE}', $1::text, $2::integer, $3::text, $4::text, $5::timestamptz,
        CASE WHEN linked.yes THEN NULL ELSE $5::timestamptz END,
        CASE WHEN linked.yes THEN NULL ELSE coalesce($7::text, '{Outcome.UNLINKED}') END
    FROM linked
    ON CONFLICT (source, delivery_id) DO NOTHING
    RETURNING id, outcome
),
job AS (
    INSERT INTO sync_jobs
        (kind, payload, ordering_key, status, attempts, run_after, created_at, updated_at)
    SELECT '{ApplyWebhook.kind}',
        json_build_object(
            'delivery_id', delivery.id, 'instance_id', $2::integer, 'issue_id', $6::text,
            'parsed', $9::json
        ),
        $8::text,
        'queued', 0, $5::timestamptz, $5::timestamptz, $5::timestamptz
    FROM delivery WHERE delivery.outcome IS NULL
)
SELECT id, outcome FROM delivery
"""

# A pooled connection the server closed (restart, failover, terminated backend) fails on first
# use, as an I/O error, a closed connection, the server's own FATAL error, or (when the FATAL
# message arrived while the connection sat idle in the pool) asyncpg's protocol-state error. The
# statement is then tried once more on a fresh connection: safe, a stored delivery's retry is a
# duplicate.
_CONNECTION_LOST = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)


class PostgresInboxPool:
    """The inbox's own small asyncpg pool, and the instances' credentials kept in memory while a
    LISTEN connection reports their changes. The pool's connections never change session state
    (no transactions left open, no SET, LISTEN or advisory locks), so they go back to the pool
    without asyncpg's reset round trip."""

    def __init__(self, pool: asyncpg.Pool, waker: Waker, database_url: str) -> None:
        self.pool = pool
        self.waker = waker
        self.credentials = WebhookCredentials()
        self._stop = asyncio.Event()
        self._listener = asyncio.create_task(
            listen_forever(
                database_url,
                CHANNEL,
                self.credentials.changed,
                self._stop,
                on_listening=self.credentials.listening,
                on_lost=self.credentials.lost,
            )
        )

    @classmethod
    async def open(cls, database_url: str, max_size: int, waker: Waker) -> PostgresInboxPool:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(database_url), min_size=0, max_size=max_size, reset=_keep_session
        )
        return cls(pool, waker, database_url)

    async def close(self) -> None:
        self._stop.set()
        await self._listener
        await self.pool.close()

    @asynccontextmanager
    async def inbox(self) -> AsyncIterator[PostgresInbox]:
        """An inbox on one pooled connection for one request."""
        inbox = PostgresInbox(self)
        try:
            yield inbox
        finally:
            await inbox.release()


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Nothing to reset (see PostgresInboxPool)."""


class PostgresInbox:
    def __init__(self, pool: PostgresInboxPool) -> None:
        self._pool = pool
        self._connection: asyncpg.Connection | None = None

    async def instance(self, instance_id: int) -> InstanceAuth | None:
        credentials = self._pool.credentials
        known = credentials.get(instance_id)
        if known is not None:
            return known
        read_at = credentials.generation
        row = await self._fetchrow(INSTANCE, instance_id)
        if row is None:
            return None
        auth = InstanceAuth(instance_id, row["sync_active"], row["webhook_secret_encrypted"])
        credentials.keep(auth, read_at)
        return auth

    async def store(self, delivery: NewDelivery) -> Stored:
        ordering_key = (
            issue_ordering_key(delivery.instance_id, delivery.issue_id)
            if delivery.issue_id is not None
            else None
        )
        try:
            row = await self._fetchrow(
                STORE,
                delivery.delivery_id,
                delivery.instance_id,
                delivery.event,
                delivery.body,
                delivery.received_at,
                delivery.issue_id,
                delivery.outcome,
                ordering_key,
                PARSED.dump_json(delivery.parsed).decode(),
            )
        except asyncpg.ForeignKeyViolationError as exc:  # the instance was deleted meanwhile
            raise instance_not_found(delivery.instance_id) from exc
        if row is None:
            return Stored(None, delivery.outcome)
        if row["outcome"] is None:
            JOBS_ENQUEUED.labels(ApplyWebhook.kind).inc()
            self._pool.waker.committed([ApplyWebhook.kind])
        return Stored(int(row["id"]), row["outcome"])

    async def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await self._pool.pool.release(connection)

    async def _fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        try:
            return await self._fetchrow_once(query, *args)
        except _CONNECTION_LOST:
            log.info("jira.webhook.db_reconnect")
            await self.release()  # closed by now: the pool opens a fresh one
        try:
            return await self._fetchrow_once(query, *args)
        except _CONNECTION_LOST as exc:
            raise ConnectionError("The database connection was lost.") from exc

    async def _fetchrow_once(self, query: str, *args: object) -> asyncpg.Record | None:
        if self._connection is None:
            self._connection = await self._pool.pool.acquire()
        try:
            record: asyncpg.Record | None = await self._connection.fetchrow(query, *args)
        except asyncpg.PostgresError as error:
            if isinstance(error, _CONNECTION_LOST):
                self._connection.terminate()
            raise  # else the statement failed on the server and the connection is clean
        except BaseException:
            # An I/O or protocol error, or the request cancelled mid-statement: the connection's
            # state is unknown, so it is never handed out again.
            self._connection.terminate()
            raise
        return record
