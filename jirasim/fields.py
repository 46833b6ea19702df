"""Field values: checking what a client sends against the field's schema, and change strings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from jirasim.model import FieldDef, Option
from jirasim.state import PRIORITIES, SimState, jira_time


class FieldValueError(ValueError):
    """A value that does not fit its field; the message is Jira's."""


def coerce(state: SimState, fdef: FieldDef, raw: Any) -> Any:
    """Turn a REST value into the stored value, or raise with Jira's message."""
    if raw is None:
        if fdef.id == "summary":
            raise FieldValueError("You must specify a summary of the issue.")
        return None
    kind = fdef.kind
    if kind == "string":
        if not isinstance(raw, str):
            raise FieldValueError("Operation value must be a string")
        if fdef.id == "summary":
            if not raw.strip():
                raise FieldValueError("You must specify a summary of the issue.")
            if len(raw) > 255:
                raise FieldValueError("Summary must be less than 255 characters.")
        return raw
    if kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise FieldValueError("Operation value must be a number")
        return raw
    if kind == "option":
        return _option(fdef, raw).id
    if kind == "array:option":
        if not isinstance(raw, list):
            raise FieldValueError("data was not an array")
        return [_option(fdef, item).id for item in raw]
    if kind == "array:string":
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise FieldValueError("data was not an array of strings")
        for label in raw:
            if " " in label:
                raise FieldValueError(f"The label '{label}' contains spaces which is invalid.")
        return list(raw)
    if kind == "date":
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise FieldValueError(f"Error parsing date string: {raw}") from None
    if kind == "datetime":
        return jira_time(parse_datetime(raw))
    if kind == "user":
        return _user(state, raw)
    if kind == "priority":
        return _priority(raw)
    raise FieldValueError(f"Field '{fdef.id}' cannot be set.")


def parse_datetime(raw: Any) -> datetime:
    text = str(raw)
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FieldValueError(f"Error parsing time: {raw}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _option(fdef: FieldDef, raw: Any) -> Option:
    if not isinstance(raw, dict) or not ({"id", "value"} & raw.keys()):
        raise FieldValueError("Could not find valid 'id' or 'value' in the Parent Option object.")
    enabled = [o for o in fdef.options if not o.disabled]
    if "id" in raw:
        found = next((o for o in enabled if o.id == str(raw["id"])), None)
        if found is None:
            raise FieldValueError(f"Option id '{raw['id']}' is not valid")
        return found
    found = next((o for o in enabled if o.value == raw["value"]), None)
    if found is None:
        raise FieldValueError(f"Option value '{raw['value']}' is not valid")
    return found


def _user(state: SimState, raw: Any) -> str:
    if isinstance(raw, dict):
        ident = raw.get("accountId") or raw.get("name") or raw.get("key") or raw.get("id")
    else:
        ident = raw if isinstance(raw, str) else None
    if not ident:
        raise FieldValueError("Specify a valid user: 'accountId' or 'name'.")
    user = state.find_user(str(ident))
    if user is None:
        raise FieldValueError(f"User '{ident}' does not exist.")
    return user.name


def _priority(raw: Any) -> str:
    if not isinstance(raw, dict):
        raise FieldValueError("Specify the Priority (id or name) in the string format")
    for pid, name in PRIORITIES:
        if str(raw.get("id")) == pid or raw.get("name") == name:
            return pid
    raise FieldValueError(f"Priority '{raw.get('name', raw.get('id'))}' is not valid")


def option_value(fdef: FieldDef, option_id: str) -> str:
    return next((o.value for o in fdef.options if o.id == option_id), option_id)


def change_strings(state: SimState, fdef: FieldDef, value: Any) -> tuple[str | None, str | None]:
    """The (`from`/`to`, `fromString`/`toString`) pair a changelog item shows for a value."""
    if value is None or value == []:
        return None, None
    kind = fdef.kind
    if kind == "option":
        return str(value), option_value(fdef, value)
    if kind == "array:option":
        ids = list(value)
        return "[" + ", ".join(ids) + "]", ", ".join(option_value(fdef, i) for i in ids)
    if kind == "array:string":
        return None, " ".join(value)
    if kind == "user":
        user = state.users.get(value)
        ident = user.account_id if user and state.flavor == "cloud" else value
        return ident, user.display_name if user else value
    if kind == "priority":
        return value, dict(PRIORITIES).get(value, value)
    if kind == "date":
        return value, value
    return None, str(value)
