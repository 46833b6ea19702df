"""The dictionary commands: adddictionaryvalue, removedictionaryvalue."""

from __future__ import annotations

from typing import Any

from app.crm import dictionaries
from app.crm.commands.context import CommandContext, ok


async def add_dictionary_value(ctx: CommandContext) -> dict[str, Any]:
    dictionary = await dictionaries.get_dictionary(
        ctx.session, ctx.params.require("dictionaryName")
    )
    value = ctx.params.require("newvalue", "newValue", "value")
    added = await dictionaries.add_value(ctx.session, dictionary, value)
    values = await dictionaries.values_of(ctx.session, dictionary)
    return ok(dictionary=dictionary.name, value=value, added=added, values=values)


async def remove_dictionary_value(ctx: CommandContext) -> dict[str, Any]:
    dictionary = await dictionaries.get_dictionary(
        ctx.session, ctx.params.require("dictionaryName")
    )
    value = ctx.params.require("valuetoremove", "value")
    await dictionaries.remove_value(ctx.session, dictionary, value)
    values = await dictionaries.values_of(ctx.session, dictionary)
    return ok(dictionary=dictionary.name, value=value, removed=True, values=values)
