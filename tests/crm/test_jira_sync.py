"""Which Jira users the `sync` command makes contacts of (pure)."""

from __future__ import annotations

import pytest

from app.crm.jira_sync import SkipReason, skip_reason
from app.jira.schemas import JiraUser

ME_CLOUD = JiraUser(account_id="5b10-me", display_name="Helpdesk Integration")
ME_SERVER = JiraUser(name="integration", key="JIRAUSER10000")


@pytest.mark.parametrize(
    ("user", "me", "reason"),
    [
        (JiraUser(account_id="5b10-ann", account_type="atlassian"), ME_CLOUD, None),
        (JiraUser(name="ann"), ME_SERVER, None),
        (JiraUser(name="ann"), None, None),
        (JiraUser(account_id="5b10-ann", active=False), ME_CLOUD, SkipReason.INACTIVE),
        (JiraUser(name="ann", active=False), ME_SERVER, SkipReason.INACTIVE),
        (JiraUser(account_id="5b10-bot", account_type="app"), ME_CLOUD, SkipReason.APP),
        (JiraUser(account_id="5b10-me"), ME_CLOUD, SkipReason.INTEGRATION_USER),
        (JiraUser(name="integration"), ME_SERVER, SkipReason.INTEGRATION_USER),
        # inactive wins: the reason a person reads first
        (JiraUser(account_id="5b10-me", active=False), ME_CLOUD, SkipReason.INACTIVE),
    ],
)
def test_skip_reason(user: JiraUser, me: JiraUser | None, reason: SkipReason | None) -> None:
    assert skip_reason(user, me) is reason
