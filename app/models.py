"""Every table, imported in one place so the metadata is complete for Alembic and the app."""

from app.core.config_cache import CONFIG_STAMP  # noqa: F401
from app.crm.models import (  # noqa: F401
    CrmDictionary,
    CrmDictionaryValue,
    CrmField,
    CrmRecord,
    CrmSettings,
    CrmTable,
    CrmUser,
)
from app.helpdesk.models import (  # noqa: F401
    Action,
    ActionType,
    Counter,
    CustomField,
    HistoryEntry,
    Product,
    Ticket,
    TicketCustomValue,
    TicketStatus,
    TicketType,
    Version,
)
from app.inbox.models import WebhookDelivery  # noqa: F401
from app.integration.models import JiraInstance, JiraIssue, JiraMapping, SyncLog  # noqa: F401
from app.jobs.models import SyncJob  # noqa: F401
from app.outgoing.models import EventDelivery, EventSubscription  # noqa: F401
