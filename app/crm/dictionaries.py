"""Custom dictionaries (Colors, Industries, SLAs): their values, added and removed by name."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest, Conflict, NotFound
from app.crm.models import CrmDictionary, CrmDictionaryValue, CrmField, CrmTable
from app.crm.naming import normalized
from app.crm.tables import forget_schemas

MAX_VALUE_CHARS = 255


def _check(text: str, what: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_VALUE_CHARS:
        raise BadRequest(f"{what} must be 1 to {MAX_VALUE_CHARS} characters.")
    return text


async def get_dictionary(session: AsyncSession, name: str) -> CrmDictionary:
    dictionary = await session.scalar(
        select(CrmDictionary).where(col(CrmDictionary.name_key) == normalized(name))
    )
    if dictionary is None:
        raise NotFound(f"No dictionary named {name.strip()!r}.", code="UnknownDictionary")
    return dictionary


async def list_dictionaries(session: AsyncSession) -> list[CrmDictionary]:
    return list(
        (await session.scalars(select(CrmDictionary).order_by(col(CrmDictionary.name)))).all()
    )


async def values_of(session: AsyncSession, dictionary: CrmDictionary) -> list[str]:
    rows = await session.scalars(
        select(col(CrmDictionaryValue.value))
        .where(col(CrmDictionaryValue.dictionary_id) == dictionary.id)
        .order_by(col(CrmDictionaryValue.id))
    )
    return list(rows.all())


def keep_name(dictionary: CrmDictionary, name: str | None) -> None:
    """A change may repeat the dictionary's Name, not change it (fields refer to it by name)."""
    if name is None:
        raise BadRequest("Name cannot be null.")
    if normalized(name) != dictionary.name_key:
        raise Conflict(f"Dictionary {dictionary.name!r} cannot be renamed.")


async def create_dictionary(session: AsyncSession, name: str, values: list[str]) -> CrmDictionary:
    forget_schemas(session)
    name = _check(name, "Name")
    existing = await session.scalar(
        select(func.count())
        .select_from(CrmDictionary)
        .where(col(CrmDictionary.name_key) == normalized(name))
    )
    if existing:
        raise Conflict(f"A dictionary named {name!r} already exists.")
    dictionary = CrmDictionary(name=name, name_key=normalized(name))
    session.add(dictionary)
    await session.flush()
    await replace_values(session, dictionary, values)
    return dictionary


async def replace_values(
    session: AsyncSession, dictionary: CrmDictionary, values: list[str]
) -> None:
    current = await values_of(session, dictionary)
    wanted = {normalized(v) for v in values}
    for value in current:
        if normalized(value) not in wanted:
            await remove_value(session, dictionary, value)
    for value in values:
        await add_value(session, dictionary, value)


async def add_value(session: AsyncSession, dictionary: CrmDictionary, value: str) -> bool:
    """Add a value; False when the dictionary already has it (case-insensitively)."""
    forget_schemas(session)
    value = _check(value, "The value")
    found = await session.scalar(
        select(CrmDictionaryValue).where(
            col(CrmDictionaryValue.dictionary_id) == dictionary.id,
            col(CrmDictionaryValue.value_key) == normalized(value),
        )
    )
    if found is not None:
        return False
    assert dictionary.id is not None
    session.add(
        CrmDictionaryValue(dictionary_id=dictionary.id, value=value, value_key=normalized(value))
    )
    await session.flush()
    return True


async def remove_value(session: AsyncSession, dictionary: CrmDictionary, value: str) -> None:
    forget_schemas(session)
    found = await session.scalar(
        select(CrmDictionaryValue).where(
            col(CrmDictionaryValue.dictionary_id) == dictionary.id,
            col(CrmDictionaryValue.value_key) == normalized(value),
        )
    )
    if found is None:
        raise NotFound(f"The dictionary {dictionary.name!r} has no value {value.strip()!r}.")
    await session.delete(found)
    await session.flush()


async def delete_dictionary(session: AsyncSession, dictionary: CrmDictionary) -> None:
    """Refused (409) while a field uses it: the field could take no value afterwards."""
    forget_schemas(session)
    users = (
        await session.execute(
            select(col(CrmField.name), col(CrmField.code), col(CrmTable.name), col(CrmTable.prefix))
            .join(CrmTable, col(CrmTable.id) == col(CrmField.table_id))
            .where(col(CrmField.dictionary_id) == dictionary.id)
            .order_by(col(CrmTable.name), col(CrmField.position), col(CrmField.id))
        )
    ).all()
    if users:
        fields = ", ".join(
            f"field {field!r} ({prefix}-{code}) of table {table}"
            for field, code, table, prefix in users
        )
        raise Conflict(
            f"The dictionary {dictionary.name!r} is still used by {fields}; "
            "delete those fields first."
        )
    await session.delete(dictionary)
    await session.flush()
