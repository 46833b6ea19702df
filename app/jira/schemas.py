"""What the service reads from Jira REST v2 answers: small models, unknown keys ignored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.jira.audience import comment_privacy
from app.jira.deliveries import Privacy


class JiraModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class JiraUser(JiraModel):
    """Cloud users have an `account_id`; Server/Data Center users a `name` (and `key`)."""

    account_id: str | None = None
    name: str | None = None
    key: str | None = None
    display_name: str | None = None
    email_address: str | None = None
    active: bool = True
    account_type: str | None = None


class FieldSchema(JiraModel):
    type: str | None = None
    items: str | None = None
    system: str | None = None
    custom: str | None = None
    custom_id: int | None = None


class JiraField(JiraModel):
    """One entry of `/rest/api/2/field`."""

    id: str
    name: str
    custom: bool = False
    schema_: FieldSchema | None = Field(default=None, alias="schema")


def find_field(fields: Iterable[JiraField], configured: str) -> JiraField | None:
    """The field a setting names, by id (`customfield_10050`) or by name, in any case (pure)."""
    wanted = configured.strip().casefold()
    by_name = None
    for field in fields:
        if field.id.casefold() == wanted:
            return field
        if by_name is None and field.name.strip().casefold() == wanted:
            by_name = field
    return by_name


def holds_text(field: JiraField) -> bool:
    """Whether a field takes a plain text value (what `setcrmproperties` writes)."""
    return field.schema_ is not None and field.schema_.type == "string"


class CreateMetaField(JiraModel):
    """Create metadata of one field, the same whichever createmeta endpoint answered."""

    id: str
    name: str
    required: bool = False
    schema_: FieldSchema = Field(default_factory=FieldSchema, alias="schema")
    allowed_values: list[dict[str, Any]] = Field(default_factory=list)


class CreatedIssue(JiraModel):
    id: str
    key: str


class Issue(JiraModel):
    id: str
    key: str
    fields: dict[str, Any] = Field(default_factory=dict)
    changelog: dict[str, Any] | None = None


class EntityProperty(JiraModel):
    key: str
    value: Any = None


class Comment(JiraModel):
    id: str
    body: str | None = None
    author: JiraUser | None = None
    update_author: JiraUser | None = None
    created: datetime | None = None
    updated: datetime | None = None
    visibility: dict[str, Any] | None = None
    jsd_public: bool | None = None
    properties: list[EntityProperty] = Field(default_factory=list)
    rendered_body: str | None = None  # with expand=renderedBody: Jira's HTML of the body

    def privacy(self) -> Privacy:
        """Whether the team only may read it (`audience.comment_privacy`): an answer read with
        `expand=properties` that says nothing of an audience is a public comment."""
        return comment_privacy(
            visibility=self.visibility,
            jsd_public=True if self.jsd_public is None else self.jsd_public,
            properties=self.properties,
        )


class CommentPage(JiraModel):
    comments: list[Comment] = Field(default_factory=list)
    start_at: int = 0
    max_results: int = 0
    total: int = 0


class SearchPage(JiraModel):
    issues: list[Issue] = Field(default_factory=list)
    start_at: int = 0
    max_results: int = 0
    total: int = 0


class JqlPage(JiraModel):
    """A page of `/search/jql`: token-paged, without a total."""

    issues: list[Issue] = Field(default_factory=list)
    next_page_token: str | None = None
    is_last: bool | None = None
