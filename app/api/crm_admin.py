"""Admin of the CRM API under `/api/json/Crm/…`: settings (API key), users and their rights,
tables, fields and dictionaries. Behind the service's API token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, WithJsonSchema

from app.api.bodies import documented_body, read_model
from app.api.deps import FormatDep, SessionDep
from app.api.responses import formatted
from app.api.xml_texts import NOT_EMPTY
from app.core.wire import ApiModel, secret_schema
from app.crm import access, admin, dictionaries, tables
from app.crm.models import CrmFieldType, CrmTable, CrmUser
from app.crm.rights import ALL_RIGHTS
from app.crm.schema import TableSchema

router = APIRouter(prefix="/Crm", tags=["CRM admin"])


# What the services check, with their own words, told in the spec too.
Name = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 255})]
Right = Annotated[str, WithJsonSchema({"enum": list(ALL_RIGHTS)})]
TableCode = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"})
]
# Blank: the service makes one up.
FieldCode = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^\s*([a-z][a-z0-9_-]{0,127})?\s*$"})
]
# A dictionary field names its dictionary; no other field does.
DICTIONARY_FIELDS_NAME_ONE = {
    "if": {
        "required": ["FieldType"],
        "properties": {"FieldType": {"enum": ["Dictionary", "MultiDictionary"]}},
    },
    "then": {"required": ["Dictionary"], "properties": {"Dictionary": {"pattern": NOT_EMPTY}}},
    "else": {"properties": {"Dictionary": {"anyOf": [{"type": "null"}, {"pattern": r"^\s*$"}]}}},
}


class SettingsInput(ApiModel):
    api_key: Annotated[str, secret_schema(access.MIN_API_KEY_CHARS)] | None = None


class UserInput(ApiModel):
    user_name: str | None = None
    rights: list[Right] = Field(default_factory=list)


class TableInput(ApiModel):
    code: TableCode
    name: Name
    name_field: str | None = None


class FieldInput(ApiModel):
    name: Name
    field_type: CrmFieldType = CrmFieldType.TEXT
    dictionary: str | None = None
    code: FieldCode | None = None


class DictionaryInput(ApiModel):
    name: Name | None = None
    values: list[Name] = Field(default_factory=list)


def _user(user: CrmUser) -> dict[str, Any]:
    return {"UserName": user.user_name, "Rights": list(user.rights)}


def _table(table: CrmTable) -> dict[str, Any]:
    return {
        "ID": table.id,
        "Code": table.code,
        "Name": table.name,
        "Prefix": table.prefix,
        "BuiltIn": table.built_in,
    }


def _fields(schema: TableSchema) -> list[dict[str, Any]]:
    return [
        {
            "ID": spec.id,
            "Code": schema.full_code(spec),
            "Name": spec.name,
            "FieldType": spec.field_type.value,
            "Dictionary": spec.dictionary,
            "IsName": spec.is_name,
        }
        for spec in schema.fields
    ]


# -- settings and users -----------------------------------------------------------------------


@router.get("/Settings")
async def get_settings(session: SessionDep, fmt: FormatDep) -> Response:
    return formatted({"Settings": {"ApiKeySet": await access.api_key_is_set(session)}}, fmt)


@router.put("/Settings", openapi_extra=documented_body(SettingsInput, "Settings"))
async def put_settings(request: Request, session: SessionDep, fmt: FormatDep) -> Response:
    data = await read_model(request, fmt, SettingsInput, "Settings")
    await access.set_api_key(session, data.api_key)
    return formatted({"Settings": {"ApiKeySet": bool(data.api_key)}}, fmt)


@router.get("/Users")
async def list_users(session: SessionDep, fmt: FormatDep) -> Response:
    return formatted({"Users": [_user(u) for u in await access.list_users(session)]}, fmt)


@router.get("/Users/{user_name}")
async def get_user(user_name: str, session: SessionDep, fmt: FormatDep) -> Response:
    user = await access.find_user(session, user_name)
    if user is None:
        from app.core.errors import NotFound

        raise NotFound(f"No CRM user {user_name!r}.")
    return formatted({"User": _user(user)}, fmt)


@router.put("/Users/{user_name}", openapi_extra=documented_body(UserInput, "User"))
async def put_user(
    user_name: str, request: Request, session: SessionDep, fmt: FormatDep
) -> Response:
    data = await read_model(request, fmt, UserInput, "User")
    user = await access.put_user(session, user_name, data.rights)
    return formatted({"User": _user(user)}, fmt)


@router.delete("/Users/{user_name}", status_code=204)
async def delete_user(user_name: str, session: SessionDep) -> Response:
    await access.delete_user(session, user_name)
    return Response(status_code=204)


# -- tables and fields ------------------------------------------------------------------------


@router.get("/Tables")
async def list_tables(session: SessionDep, fmt: FormatDep) -> Response:
    return formatted({"Tables": [_table(t) for t in await admin.list_tables(session)]}, fmt)


@router.post("/Tables", status_code=201, openapi_extra=documented_body(TableInput, "Table"))
async def create_table(request: Request, session: SessionDep, fmt: FormatDep) -> Response:
    data = await read_model(request, fmt, TableInput, "Table")
    table = await admin.create_table(session, data.code, data.name, data.name_field)
    schema = await tables.load_table(session, table.code)
    return formatted({"Table": _table(table) | {"Fields": _fields(schema)}}, fmt, 201)


@router.get("/Tables/{code}")
async def get_table(code: str, session: SessionDep, fmt: FormatDep) -> Response:
    table = await admin.get_table_row(session, code)
    schema = await tables.load_table(session, table.code)
    return formatted({"Table": _table(table) | {"Fields": _fields(schema)}}, fmt)


@router.delete("/Tables/{code}", status_code=204)
async def delete_table(code: str, session: SessionDep) -> Response:
    await admin.delete_table(session, code)
    return Response(status_code=204)


@router.get("/Tables/{code}/Fields")
async def list_fields(code: str, session: SessionDep, fmt: FormatDep) -> Response:
    return formatted({"Fields": _fields(await tables.load_table(session, code))}, fmt)


@router.post(
    "/Tables/{code}/Fields",
    status_code=201,
    openapi_extra=documented_body(FieldInput, "Field", rule=DICTIONARY_FIELDS_NAME_ONE),
)
async def create_field(
    code: str, request: Request, session: SessionDep, fmt: FormatDep
) -> Response:
    data = await read_model(request, fmt, FieldInput, "Field")
    schema = await tables.load_table(session, code)
    field = await admin.create_field(
        session,
        schema,
        name=data.name,
        field_type=data.field_type,
        dictionary=data.dictionary,
        code=data.code,
    )
    schema = await tables.load_table(session, code)
    created = [f for f in _fields(schema) if f["ID"] == field.id]
    return formatted({"Field": created[0]}, fmt, 201)


@router.delete("/Tables/{code}/Fields/{field_code}", status_code=204)
async def delete_field(code: str, field_code: str, session: SessionDep) -> Response:
    await admin.delete_field(session, await tables.load_table(session, code), field_code)
    return Response(status_code=204)


# -- dictionaries ---------------------------------------------------------------------------


async def _dictionary(session: SessionDep, dictionary: Any) -> dict[str, Any]:
    values = await dictionaries.values_of(session, dictionary)
    return {"ID": dictionary.id, "Name": dictionary.name, "Values": values}


@router.get("/Dictionaries")
async def list_dictionaries(session: SessionDep, fmt: FormatDep) -> Response:
    items = [await _dictionary(session, d) for d in await dictionaries.list_dictionaries(session)]
    return formatted({"Dictionaries": items}, fmt)


@router.post(
    "/Dictionaries",
    status_code=201,
    openapi_extra=documented_body(DictionaryInput, "Dictionary", required=("Name",)),
)
async def create_dictionary(request: Request, session: SessionDep, fmt: FormatDep) -> Response:
    data = await read_model(request, fmt, DictionaryInput, "Dictionary")
    dictionary = await dictionaries.create_dictionary(session, data.name or "", data.values)
    return formatted({"Dictionary": await _dictionary(session, dictionary)}, fmt, 201)


@router.get("/Dictionaries/{name}")
async def get_dictionary(name: str, session: SessionDep, fmt: FormatDep) -> Response:
    dictionary = await dictionaries.get_dictionary(session, name)
    return formatted({"Dictionary": await _dictionary(session, dictionary)}, fmt)


@router.put("/Dictionaries/{name}", openapi_extra=documented_body(DictionaryInput, "Dictionary"))
async def put_dictionary(
    name: str, request: Request, session: SessionDep, fmt: FormatDep
) -> Response:
    data = await read_model(request, fmt, DictionaryInput, "Dictionary")
    dictionary = await dictionaries.get_dictionary(session, name)
    if "name" in data.model_fields_set:
        dictionaries.keep_name(dictionary, data.name)
    await dictionaries.replace_values(session, dictionary, data.values)
    return formatted({"Dictionary": await _dictionary(session, dictionary)}, fmt)


@router.delete("/Dictionaries/{name}", status_code=204)
async def delete_dictionary(name: str, session: SessionDep) -> Response:
    await dictionaries.delete_dictionary(session, await dictionaries.get_dictionary(session, name))
    return Response(status_code=204)
