"""Request and answer bodies of the Jira integration admin (element names as in the contract)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from app.core.wire import ApiModel
from app.integration.models import MappingType
from app.jira.auth import AuthMethod

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Text255 = Annotated[str, StringConstraints(max_length=255)]


class JiraInstanceInput(ApiModel):
    name: Name | None = None
    host_name: Annotated[str, StringConstraints(max_length=1024)] | None = None
    user_name: Text255 | None = None
    api_token: Annotated[str, StringConstraints(max_length=1024)] | None = None
    auth_method: AuthMethod | None = None
    default_project_key: Text255 | None = None
    action_type_to_push: Text255 | None = None
    update_ticket_status: bool | None = None
    sync_active: bool | None = None
    always_use_default_project_key: bool | None = None
    include_non_required_fields: bool | None = None
    use_all_ticket_types: bool | None = None
    allowed_ticket_type_ids: list[int] | None = None
    webhook_secret: Annotated[str, StringConstraints(max_length=1024)] | None = None
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
