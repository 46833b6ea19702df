"""Create metadata in one shape, whichever createmeta answered (pure).

Jira 9+ and Cloud page it per project and issue type (`createmeta/{project}/issuetypes[/{id}]`);
older servers answer one expanded `createmeta` document.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.jira.errors import JiraNotFound, JiraUnexpectedResponse
from app.jira.schemas import CreateMetaField

# The keys a paged answer may hold its items under, by server version.
ISSUE_TYPE_KEYS = ("values", "issueTypes", "createMetaIssueType")
FIELD_KEYS = ("values", "fields", "results")

_fields = TypeAdapter(list[CreateMetaField])


def issue_type_id(issue_types: list[dict[str, Any]], project_key: str, name: str) -> Any:
    """The id of the issue type called `name` (case-insensitive) in a paged answer."""
    wanted = name.casefold()
    found = next(
        (t.get("id") for t in issue_types if str(t.get("name", "")).casefold() == wanted), None
    )
    if found is None:
        raise _not_found(project_key, name)
    return found


def paged_fields(raw: list[dict[str, Any]]) -> list[CreateMetaField]:
    return _validate([{**field, "id": field.get("fieldId") or field.get("key")} for field in raw])


def legacy_params(project_key: str, name: str) -> dict[str, str]:
    return {
        "projectKeys": project_key,
        "issuetypeNames": name,
        "expand": "projects.issuetypes.fields",
    }


def legacy_fields(data: Any, project_key: str, name: str) -> list[CreateMetaField]:
    """The fields of issue type `name` in an expanded `createmeta` answer."""
    wanted = name.casefold()
    for project in data.get("projects", []) if isinstance(data, dict) else []:
        for issue_type in project.get("issuetypes", []):
            if str(issue_type.get("name", "")).casefold() == wanted:
                fields = issue_type.get("fields", {})
                return _validate([{**meta, "id": fid} for fid, meta in fields.items()])
    raise _not_found(project_key, name)


def _not_found(project_key: str, name: str) -> JiraNotFound:
    return JiraNotFound(f"Issue type {name!r} not found in project {project_key}")


def _validate(raw: list[dict[str, Any]]) -> list[CreateMetaField]:
    try:
        return _fields.validate_python(raw)
    except ValidationError as exc:
        raise JiraUnexpectedResponse(f"Unexpected createmeta field shape: {exc}") from exc
