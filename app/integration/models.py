"""The Jira integration's tables: instances, their field mappings, the issues tickets link to,
and sync logs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from app.core.db import utcnow
from app.jira.auth import AuthMethod

DEFAULT_INSTANCE_NAME = "Default"


class MappingType(StrEnum):
    TICKET = "Ticket"
    TICKET_TYPE = "TicketType"


class JiraInstance(SQLModel, table=True):
    __tablename__ = "jira_instances"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    host_name: str = Field(default="", max_length=1024)
    user_name: str = Field(default="", max_length=255)
    auth_method: str = Field(default=AuthMethod.BASIC, max_length=16)
    api_token_encrypted: str | None = Field(default=None, max_length=4096)
    webhook_secret_encrypted: str | None = Field(default=None, max_length=4096)
    default_project_key: str | None = Field(default=None, max_length=255)
    action_type_to_push_id: int | None = Field(default=None, foreign_key="action_types.id")
    update_ticket_status: bool = False
    sync_active: bool = False
    always_use_default_project_key: bool = False
    include_non_required_fields: bool = False
    use_all_ticket_types: bool = True
    allowed_ticket_type_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The Jira field (name or customfield id) that CRM `setcrmproperties` writes.
    crm_property_field: str | None = Field(default=None, max_length=255)
    last_reconciled_at: datetime | None = None


# "Cloud" and "cloud" are one name (the API compares them so), in the database too.
Index("uq_jira_instances_name_folded", func.lower(JiraInstance.name), unique=True)


class JiraMapping(SQLModel, table=True):
    __tablename__ = "jira_mappings"
    __table_args__ = (UniqueConstraint("instance_id", "mapping_type", "jira_field"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="jira_instances.id", index=True, ondelete="CASCADE")
    mapping_type: str = Field(max_length=16)
    jira_field: str = Field(max_length=255)
    teamsupport_field: str = Field(max_length=255)


class JiraIssue(SQLModel, table=True):
    """A Jira issue linked to one or more tickets, keyed by Jira's stable issue ID."""

    __tablename__ = "jira_issues"
    # The unique constraint is also the index of an instance's issues (migration 20261201_10).
    __table_args__ = (UniqueConstraint("instance_id", "issue_id"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="jira_instances.id")
    issue_id: str = Field(max_length=64)
    issue_key: str = Field(max_length=255, index=True)
    # What the linked tickets reflect: Jira's `updated` time and the last changelog id applied.
    jira_updated: datetime | None = None
    last_changelog_id: int | None = Field(default=None, sa_type=BigInteger)
    deleted: bool = False
    # The issue's status and type as last applied, so a refresh can tell what changed.
    status_name: str | None = Field(default=None, max_length=255)
    issue_type_name: str | None = Field(default=None, max_length=255)


class Direction(StrEnum):
    TO_JIRA = "ToJira"
    FROM_JIRA = "FromJira"


class LogStatus(StrEnum):
    OK = "Ok"
    ERROR = "Error"


class SyncLog(SQLModel, table=True):
    """One line per sync operation; the ones with status Error make the CrmSyncErrors report."""

    __tablename__ = "sync_logs"
    __table_args__ = (Index("ix_sync_logs_status_created", "status", "date_created"),)

    id: int | None = Field(default=None, primary_key=True)
    jira_instance_id: int | None = Field(default=None, foreign_key="jira_instances.id", index=True)
    ticket_id: int | None = Field(default=None, index=True)
    jira_key: str | None = Field(default=None, max_length=255)
    direction: str = Field(max_length=16)
    event: str = Field(max_length=64)
    status: str = Field(max_length=16)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    date_created: datetime = Field(default_factory=utcnow, index=True)
