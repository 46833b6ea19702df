"""Jira comments reaching the linked tickets: once each, never private ones nor our own echo."""

from __future__ import annotations

from typing import Any

import httpx

from app.helpdesk.models import Action
from jirasim import JiraSimulator
from tests.conftest import BOTH_JIRAS
from tests.support.inbound import (
    actions_of,
    cloud_comment_created,
    deliver,
    send,
    server_comment_created,
    server_issue_commented,
    simple_event,
    sync_logs,
    user,
)
from tests.support.jobs import drain
from tests.support.world import ISSUE_ID, WEBHOOK_SECRET, linked_world


class TestComments:
    async def test_public_comment_once_per_linked_ticket(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "Printer on fire", user="jdoe")
        said = sim.add_comment(issue.key, "Fixed in 2.1", user="jdoe")
        s = await linked_world(session, 3, issue_id=issue.id, issue_key=issue.key)
        payload = cloud_comment_created(issue.id, issue.key, said.id, text="Fixed in 2.1")
        await send(http, service, s, payload)
        # the same comment again under another delivery id: still once
        await deliver(http, s.instance_id, payload, identifier="another")
        await drain(service)
        for ticket_id in s.tickets:
            (action,) = await actions_of(session, ticket_id)
            assert (action.description, action.creator_name) == ("Fixed in 2.1", "John Doe")
            assert (action.source, action.jira_comment_id) == ("Jira", said.id)

    async def test_private_comment_adds_nothing(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        for n, visibility in enumerate(
            ({"type": "role", "value": "Developers"}, {"type": "group", "value": "jira-staff"})
        ):
            payload = cloud_comment_created(ISSUE_ID, "DEMO-1", f"3000{n}", visibility=visibility)
            await send(http, service, s, payload)
        assert await actions_of(session, s.tickets[0]) == []

    async def test_echo_of_our_own_comment_by_id(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        session.add(Action(ticket_id=s.tickets[0], description="pushed", jira_comment_id="40001"))
        await session.commit()
        await send(http, service, s, cloud_comment_created(ISSUE_ID, "DEMO-1", "40001"))
        assert len(await actions_of(session, s.tickets[0])) == 1
        assert await actions_of(session, s.tickets[1]) == []

    async def test_echo_by_the_integration_users_name_on_server(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1, user_name="svc-helpdesk")
        author = user("svc-helpdesk", cloud=False, display="Helpdesk Sync")
        await send(http, service, s, server_comment_created(ISSUE_ID, "40002", author=author))
        assert await actions_of(session, s.tickets[0]) == []

    async def test_echo_by_the_integration_users_account_id_on_cloud(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        s = await linked_world(session, 1)
        me = sim.state.user("integration")
        author = {"accountId": me.account_id, "displayName": "Integration"}
        await send(
            http, service, s, cloud_comment_created(ISSUE_ID, "DEMO-1", "40003", author=author)
        )
        assert await actions_of(session, s.tickets[0]) == []

    async def test_server_comment_created_without_issue(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        """A Server body never tells an internal note: Jira is asked, and the comment shown."""
        issue = sim.create_issue("DEMO", "On the server", user="jdoe")
        comment = sim.add_comment(issue.key, "from server", user="jdoe")
        s = await linked_world(session, 2, issue_id=issue.id, issue_key=issue.key)
        await send(
            http, service, s, server_comment_created(issue.id, comment.id, text="from server")
        )
        for ticket_id in s.tickets:
            (action,) = await actions_of(session, ticket_id)
            assert action.description == "from server"

    async def test_server_issue_commented(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "On the server", user="jdoe")
        comment = sim.add_comment(issue.key, "Looking into it", user="jdoe")
        s = await linked_world(session, 1, issue_id=issue.id, issue_key=issue.key)
        await send(http, service, s, server_issue_commented(issue.id, issue.key, comment.id))
        (action,) = await actions_of(session, s.tickets[0])
        assert action.jira_comment_id == comment.id

    async def test_a_comment_gone_before_it_is_asked_about_adds_nothing(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(http, service, s, server_issue_commented(ISSUE_ID, "DEMO-1", "50009"))
        assert await actions_of(session, s.tickets[0]) == []


@BOTH_JIRAS
class TestServiceManagementInternalNotes:
    """An agent's internal note on a Service Management issue never reaches a ticket, whichever
    Jira tells it (Cloud: `jsdPublic: false`; Server/Data Center: only the comment property)."""

    async def test_an_internal_note_stays_out_and_a_public_reply_comes_in(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("SUP", "Customer cannot log in", user="jdoe")
        s = await linked_world(session, 1, issue_id=issue.id, issue_key=issue.key)
        sim.set_webhook_client(http)
        url = f"http://helpdesk.test/webhooks/jira/{s.instance_id}"
        sim.register_webhook(url, secret=WEBHOOK_SECRET, style=sim.flavor)
        sim.add_comment(issue.key, "Internal: on the old plan", user="jdoe", internal=True)
        sim.add_comment(issue.key, "We are on it", user="jdoe")
        await sim.webhooks_idle()
        await drain(service)
        (action,) = await actions_of(session, s.tickets[0])
        assert action.description == "We are on it"

    async def test_old_server_shape_asks_jira_about_the_comment(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "Old server", user="jdoe")
        public = sim.add_comment(issue.key, "visible", user="jdoe")
        private = sim.add_comment(
            issue.key, "hidden", user="jdoe", visibility={"type": "role", "value": "Developers"}
        )
        s = await linked_world(session, 1, issue_id=issue.id, issue_key=issue.key)
        for comment_id in (public.id, private.id):
            payload = server_issue_commented(issue.id, issue.key, comment_id, event_type=None)
            assert (await deliver(http, s.instance_id, payload)).is_success
        await drain(service)
        (action,) = await actions_of(session, s.tickets[0])
        assert action.jira_comment_id == public.id

    async def test_edits_are_logged_not_propagated(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(http, service, s, simple_event("comment_updated", ISSUE_ID, "DEMO-1"))
        edited = server_issue_commented(ISSUE_ID, "DEMO-1", "50003", event_type=None, edited=True)
        await send(http, service, s, edited)
        assert await actions_of(session, s.tickets[0]) == []
        assert any(log.event == "jira.comment_updated" for log in await sync_logs(session))


@BOTH_JIRAS
class TestFormatting:
    async def test_a_jira_comments_formatting_and_mentions_reach_the_action(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "Formatted", user="jdoe")
        s = await linked_world(session, 1, issue_id=issue.id, issue_key=issue.key)
        sim.set_webhook_client(http)
        url = f"http://helpdesk.test/webhooks/jira/{s.instance_id}"
        sim.register_webhook(url, secret=WEBHOOK_SECRET, style=sim.flavor)
        jdoe = sim.state.users["jdoe"].account_id
        sim.add_comment(
            issue.key,
            f"Thanks [~accountid:{jdoe}], *fixed* in [2.1|https://rel.test/2.1]:\n\n"
            "* restart the _spooler_\n* run {{lpstat}}",
            user="jdoe",
        )
        await sim.webhooks_idle()
        await drain(service)
        (action,) = await actions_of(session, s.tickets[0])
        text = action.description
        assert ">John Doe</a>" in text  # the mention as the person's name, not an id
        assert "<b>fixed</b>" in text
        assert '<a href="https://rel.test/2.1" rel="noopener noreferrer">2.1</a>' in text
        assert "<ul><li>restart the <em>spooler</em></li><li>run <tt>lpstat</tt></li></ul>" in text
