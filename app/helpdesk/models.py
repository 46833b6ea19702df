"""Helpdesk tables: tickets, their actions and history, and the catalogues tickets refer to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, false, func, text
from sqlmodel import Field, SQLModel

from app.core.db import utcnow


class FieldType(StrEnum):
    TEXT = "Text"
    NUMBER = "Number"
    DATE = "Date"
    BOOLEAN = "Boolean"
    PICKLIST = "PickList"


class JiraSyncStatus(StrEnum):
    NONE = "None"
    PENDING = "Pending"
    LINKED = "Linked"
    ERROR = "Error"


class ActionSource(StrEnum):
    HELPDESK = "Helpdesk"
    JIRA = "Jira"


class TicketType(SQLModel, table=True):
    __tablename__ = "ticket_types"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)


class TicketStatus(SQLModel, table=True):
    __tablename__ = "ticket_statuses"
    __table_args__ = (
        UniqueConstraint("ticket_type_id", "name"),
        # At most one default per type; the service keeps it exactly one.
        Index(
            "uq_ticket_statuses_default_per_type",
            "ticket_type_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    ticket_type_id: int = Field(foreign_key="ticket_types.id", index=True)
    is_default: bool = False
    is_closed: bool = False


class ActionType(SQLModel, table=True):
    __tablename__ = "action_types"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    # The default of its actions' `is_visible_on_portal`.
    is_visible_on_portal: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Product(SQLModel, table=True):
    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    jira_project_key: str | None = Field(default=None, max_length=255)
    jira_instance_id: int | None = Field(default=None, foreign_key="jira_instances.id", index=True)


class Version(SQLModel, table=True):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("product_id", "version_number"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    version_number: str = Field(max_length=255)
    jira_project_key: str | None = Field(default=None, max_length=255)


class CustomField(SQLModel, table=True):
    __tablename__ = "custom_fields"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    field_type: str = Field(max_length=16)
    pick_list_values: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


# Names that differ only in case are one name (the API compares them so); the database holds
# it too, so that two concurrent creations of "VPN" and "vpn" cannot both succeed.
Index("uq_ticket_types_name_folded", func.lower(TicketType.name), unique=True)
Index(
    "uq_ticket_statuses_name_folded",
    "ticket_type_id",
    func.lower(TicketStatus.name),
    unique=True,
)
Index("uq_action_types_name_folded", func.lower(ActionType.name), unique=True)
Index("uq_products_name_folded", func.lower(Product.name), unique=True)
Index(
    "uq_versions_version_number_folded",
    "product_id",
    func.lower(Version.version_number),
    unique=True,
)
Index("uq_custom_fields_name_folded", func.lower(CustomField.name), unique=True)


class Counter(SQLModel, table=True):
    """Named sequences that work alike on SQLite and PostgreSQL (e.g. the next TicketNumber)."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0, sa_type=BigInteger)


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_jira_issue", "jira_issue_ref"),
        # Also the tickets of a type: with the issue in it, no plan that uses it reads the type's
        # other tickets to find an issue's (migration 20261201_10).
        Index("ix_tickets_type_issue", "ticket_type_id", "jira_issue_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_number: int = Field(unique=True, sa_type=BigInteger)
    name: str = Field(max_length=1024)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    ticket_type_id: int = Field(foreign_key="ticket_types.id")
    status_id: int = Field(foreign_key="ticket_statuses.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="products.id", index=True)
    reported_version_id: int | None = Field(default=None, foreign_key="versions.id", index=True)
    date_created: datetime = Field(default_factory=utcnow)
    date_modified: datetime = Field(default_factory=utcnow, index=True)
    external_id: str | None = Field(default=None, max_length=255, unique=True)

    # The Jira link. One issue (jira_issues row) may be linked by many tickets.
    jira_instance_id: int | None = Field(default=None, foreign_key="jira_instances.id", index=True)
    jira_issue_ref: int | None = Field(default=None, foreign_key="jira_issues.id")
    jira_sync_status: str = Field(default=JiraSyncStatus.NONE, max_length=16)
    # What the last JiraKey request asked for (an issue key or "NewJiraIssue") while it is pending.
    jira_requested_key: str | None = Field(default=None, max_length=255)


class TicketCustomValue(SQLModel, table=True):
    __tablename__ = "ticket_custom_values"

    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True, ondelete="CASCADE")
    custom_field_id: int = Field(
        foreign_key="custom_fields.id", primary_key=True, ondelete="CASCADE", index=True
    )
    value: str = Field(sa_column=Column(Text, nullable=False))


class Action(SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("ticket_id", "jira_comment_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    action_type_id: int | None = Field(default=None, foreign_key="action_types.id", index=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    creator_name: str = Field(default="", max_length=255)
    date_created: datetime = Field(default_factory=utcnow)
    source: str = Field(default=ActionSource.HELPDESK, max_length=16)
    jira_comment_id: str | None = Field(default=None, max_length=64, index=True)
    external_id: str | None = Field(default=None, max_length=255, unique=True)
    # Whether the customer sees it (TeamSupport's IsVisibleOnPortal): an action that is not
    # reaches a Service Management issue as an internal comment.
    is_visible_on_portal: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class HistoryEntry(SQLModel, table=True):
    __tablename__ = "ticket_history"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    description: str = Field(sa_column=Column(Text, nullable=False))
    date_created: datetime = Field(default_factory=utcnow)
