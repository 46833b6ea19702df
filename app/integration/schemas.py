"""Request and answer bodies of the Jira integration admin (element names as in the contract)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, WithJsonSchema

from app.core.wire import ApiModel, Flag, RecordId, secret_schema
from app.integration.models import MappingType
from app.jira.auth import AuthMethod

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Text255 = Annotated[str, StringConstraints(max_length=255)]


WEBHOOK_SECRET_MIN_LENGTH = 16
WebhookSecret = Annotated[
    str, StringConstraints(max_length=1024), secret_schema(WEBHOOK_SECRET_MIN_LENGTH, 1024)
]
# The form of a HostName: empty, or an http(s) URL with a host, without credentials, query or
# fragment. Which hosts are taken is further checked (`jira.hosts`): refusals say HostNameRefused.
HostName = Annotated[
    str,
    StringConstraints(max_length=1024),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 1024,
            "pattern": r"^\s*$|^\s*[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@:\u0000]+(:[0-9]{1,5})?"
            r"(/[^\s?#\u0000]*)?\s*$",
        }
    ),
]


class JiraInstanceInput(ApiModel):
    name: Name | None = None
    host_name: HostName | None = None
    user_name: Text255 | None = None
    api_token: Annotated[str, StringConstraints(max_length=1024)] | None = None
    auth_method: AuthMethod | None = None
    default_project_key: Text255 | None = None
    action_type_to_push: Text255 | None = None
    update_ticket_status: Flag = False  # read only when given: never null
    sync_active: Flag = False  # read only when given: never null
    always_use_default_project_key: Flag = False  # read only when given: never null
    include_non_required_fields: Flag = False  # read only when given: never null
    use_all_ticket_types: Flag = False  # read only when given: never null
    allowed_ticket_type_ids: list[RecordId] | None = None
    webhook_secret: WebhookSecret | None = None
    # The Jira text field `setcrmproperties` writes, by name or id; null or "" clears it.
    crm_property_field: Text255 | None = None


JIRA_INSTANCE_READ_ONLY = frozenset({"ID", "WebhookURL"})


class JiraInstanceOut(ApiModel):
    id: int
    name: str
    host_name: str
    user_name: str
    auth_method: str
    default_project_key: str | None
    action_type_to_push: str | None
    update_ticket_status: bool
    sync_active: bool
    always_use_default_project_key: bool
    include_non_required_fields: bool
    use_all_ticket_types: bool
    allowed_ticket_type_ids: list[int]
    webhook_url: str
    crm_property_field: str | None


class MappingInput(ApiModel):
    mapping_type: MappingType | None = None
    jira_field: Name | None = None
    team_support_field: Name | None = None


class MappingOut(ApiModel):
    id: int
    mapping_type: str
    jira_field: str
    team_support_field: str


class ConnectionTestOut(ApiModel):
    success: bool
    message: str
    user: str | None = None
    missing_permissions: list[str] = []
    # Whether Jira calls the service: Enabled, Disabled, Missing, or Unknown (no admin rights).
    webhook: str | None = None
    webhook_message: str | None = None


class WebhookRegistrationOut(ApiModel):
    success: bool
    message: str
    status: str | None = None  # Created or Updated
    webhook_id: str | None = None
    url: str  # the instance's WebhookURL (on Server/Data Center Jira calls it with ?secret=)
    events: list[str]
