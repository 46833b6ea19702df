"""The configuration kept between transactions while its stamp is the same: every write to a
stamped table, from anywhere, renews the stamp (triggers, on both databases)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config_cache import CONFIG_STAMP, kept_while_unchanged, saw_stamp
from app.helpdesk.models import CustomField, Product, TicketStatus, TicketType
from app.helpdesk.statuses import all_statuses
from app.helpdesk.ticket_types import type_names
from app.outgoing.models import EventSubscription
from tests.support.world import make_catalog


async def current_stamp(session: AsyncSession) -> str:
    async with session.begin():
        stamp: str = (await session.execute(select(CONFIG_STAMP.c.stamp))).scalar_one()
    return stamp


async def test_every_write_to_the_statuses_renews_the_stamp(session: AsyncSession) -> None:
    async with session.begin():
        catalog = await make_catalog(session)
    stamps = [await current_stamp(session)]
    async with session.begin():
        session.add(TicketStatus(name="Verified", ticket_type_id=catalog.bug))
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(
            update(TicketStatus).where(col(TicketStatus.name) == "Verified").values(name="Checked")
        )
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(delete(TicketStatus).where(col(TicketStatus.name) == "Checked"))
    stamps.append(await current_stamp(session))
    assert len(set(stamps)) == 4

    async with session.begin():  # another table: not stamped
        session.add(Product(name="Gateway"))
    assert await current_stamp(session) == stamps[-1]


async def test_every_write_to_the_types_and_fields_renews_the_stamp(
    session: AsyncSession,
) -> None:
    stamps = [await current_stamp(session)]
    async with session.begin():
        session.add(TicketType(name="Question"))
        session.add(CustomField(name="Region", field_type="Text"))
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(update(TicketType).values(name="Query"))
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(update(CustomField).values(name="Area"))
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(delete(CustomField))
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(delete(TicketType))
    stamps.append(await current_stamp(session))
    assert len(set(stamps)) == 6


async def test_every_write_to_the_subscriptions_renews_the_stamp(session: AsyncSession) -> None:
    stamps = [await current_stamp(session)]
    async with session.begin():
        session.add(
            EventSubscription(name="crm", url="https://hd.example/in", secret_encrypted="x")
        )
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(update(EventSubscription).values(active=False))
    stamps.append(await current_stamp(session))
    async with session.begin():
        await session.execute(delete(EventSubscription))
    stamps.append(await current_stamp(session))
    assert len(set(stamps)) == 4


class Reads:
    """A read that counts how often it was made (and gives that count), under a name of its
    own: what is kept stays in the process from one test to the next."""

    def __init__(self) -> None:
        self.name = f"test.kept.{uuid.uuid4().hex}"
        self.made = 0

    async def read(self) -> int:
        self.made += 1
        return self.made


async def test_kept_while_the_stamp_seen_is_the_same(session: AsyncSession) -> None:
    reads = Reads()

    async def transaction_seeing_the_stamp() -> int:
        async with session.begin():
            stamp = (await session.execute(select(CONFIG_STAMP.c.stamp))).scalar_one()
            saw_stamp(session, stamp)
            return await kept_while_unchanged(session, reads.name, reads.read)

    first = await transaction_seeing_the_stamp()
    again = await transaction_seeing_the_stamp()
    async with session.begin():
        catalog = await make_catalog(session)  # statuses written: a new stamp
    after_change = await transaction_seeing_the_stamp()
    assert catalog.statuses
    assert (first, again, after_change) == (1, 1, 2)


async def test_without_a_stamp_seen_read_once_per_transaction(session: AsyncSession) -> None:
    reads = Reads()

    async with session.begin():
        stamp = (await session.execute(select(CONFIG_STAMP.c.stamp))).scalar_one()
        saw_stamp(session, stamp)
        assert await kept_while_unchanged(session, reads.name, reads.read) == 1
    for expected in (2, 3):
        async with session.begin():
            assert await kept_while_unchanged(session, reads.name, reads.read) == expected
            assert await kept_while_unchanged(session, reads.name, reads.read) == expected


async def test_a_type_newer_than_the_kept_ones_is_read_when_asked_for(
    session: AsyncSession,
) -> None:
    """As for the statuses below: a type made after the stamp the transaction read."""
    stamp = await current_stamp(session)
    async with session.begin():
        saw_stamp(session, stamp)
        assert await type_names(session) == {}
    async with session.begin():
        made = TicketType(name="Question")
        session.add(made)
        await session.flush()
        await session.execute(update(CONFIG_STAMP).values(stamp=stamp))
    async with session.begin():
        saw_stamp(session, stamp)
        assert made.id not in await type_names(session)
        assert (await type_names(session, [made.id or 0]))[made.id or 0] == "Question"


async def test_a_status_newer_than_the_kept_ones_is_read_when_asked_for(
    session: AsyncSession,
) -> None:
    """A status made (and a ticket given it) after the stamp a transaction read, before its
    next statement began: the kept statuses lack it, and asking for it reads them again."""
    async with session.begin():
        catalog = await make_catalog(session)
    stamp = await current_stamp(session)
    async with session.begin():
        saw_stamp(session, stamp)
        kept = await all_statuses(session)
    async with session.begin():
        made = TicketStatus(name="Verified", ticket_type_id=catalog.bug)
        session.add(made)
        await session.flush()
        # As the transaction that read `stamp` sees it: the new status, the stamp it read.
        await session.execute(update(CONFIG_STAMP).values(stamp=stamp))
    async with session.begin():
        saw_stamp(session, stamp)
        assert made.id not in await all_statuses(session)
        found = await all_statuses(session, [made.id or 0])
    assert made.id not in kept
    assert found[made.id or 0].name == "Verified"
