"""Request and answer bodies of the helpdesk resources (element names as in the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from app.core.wire import ApiModel, Flag, RecordId
from app.helpdesk.models import FieldType

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
OptionalKey = Annotated[str, StringConstraints(max_length=255)] | None


class TicketTypeInput(ApiModel):
    name: Name | None = None


class TicketTypeOut(ApiModel):
    id: int
    name: str


class TicketStatusInput(ApiModel):
    name: Name | None = None
    ticket_type_id: RecordId | None = None
    is_default: Flag | None = None
    is_closed: Flag | None = None


class TicketStatusOut(ApiModel):
    id: int
    name: str
    ticket_type_id: int
    is_default: bool
    is_closed: bool


class ActionTypeInput(ApiModel):
    name: Name | None = None
    # The default of its actions: whether a customer sees them (on a Service Management portal).
    is_visible_on_portal: Flag = False


class ActionTypeOut(ApiModel):
    id: int
    name: str
    is_visible_on_portal: bool


class ProductInput(ApiModel):
    name: Name | None = None
    jira_project_key: OptionalKey = None
    jira_instance_id: RecordId | None = None


class ProductOut(ApiModel):
    id: int
    name: str
    jira_project_key: str | None
    jira_instance_id: int | None


class VersionInput(ApiModel):
    version_number: Name | None = None
    jira_project_key: OptionalKey = None
    product_id: RecordId | None = None


class VersionOut(ApiModel):
    id: int
    product_id: int
    version_number: str
    jira_project_key: str | None


class CustomFieldInput(ApiModel):
    name: Name | None = None
    field_type: FieldType | None = None
    pick_list_values: list[str] | None = None


class CustomFieldOut(ApiModel):
    id: int
    name: str
    field_type: FieldType
    pick_list_values: list[str]


class TicketInput(ApiModel):
    """Ticket elements; custom fields are further elements named after the field."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    description: str | None = None
    ticket_type_id: RecordId | None = None
    ticket_type_name: Name | None = None
    status_id: RecordId | None = None
    status: Name | None = None
    product_id: RecordId | None = None
    product_name: str | None = None
    reported_version_id: RecordId | None = None
    reported_version: str | None = None
    jira_key: Annotated[str, StringConstraints(max_length=255)] | None = None
    jira_instance_id: RecordId | None = None


TICKET_READ_ONLY = frozenset(
    {"ID", "TicketNumber", "DateCreated", "DateModified", "JiraLinkURL", "JiraSyncStatus"}
)


class TicketOut(ApiModel):
    model_config = {"extra": "allow"}

    id: int
    ticket_number: int
    name: str
    description: str
    ticket_type_id: int
    ticket_type_name: str
    status_id: int
    status: str
    is_closed: bool
    product_id: int | None
    product_name: str | None
    reported_version_id: int | None
    reported_version: str | None
    date_created: datetime
    date_modified: datetime
    jira_key: str | None
    jira_link_url: str | None
    jira_sync_status: str
    jira_instance_id: int | None


class ActionInput(ApiModel):
    action_type: Name | None = None
    description: Annotated[str, StringConstraints(max_length=1_000_000)] | None = None
    creator_name: Annotated[str, StringConstraints(max_length=255)] | None = None
    # Whether the customer sees it; not given (or null): its action type's default, else false.
    is_visible_on_portal: Flag | None = None


ACTION_READ_ONLY = frozenset({"ID", "TicketID", "DateCreated", "Source", "JiraCommentID"})


class ActionOut(ApiModel):
    id: int
    ticket_id: int
    action_type: str | None
    description: str
    creator_name: str
    date_created: datetime
    source: str
    jira_comment_id: str | None
    is_visible_on_portal: bool


class HistoryOut(ApiModel):
    id: int
    ticket_id: int
    description: str
    date_created: datetime
