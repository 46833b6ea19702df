"""`jira.push_comment`: one Jira comment per pushed action, never twice."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import BOTH_JIRAS
from tests.support.helpdesk import API, add_action, create_ticket, get_action, ok
from tests.support.jobs import drain
from tests.support.outbound import comment_lines, sync_logs
from tests.support.world import Helpdesk, LinkedTicket

pytestmark = BOTH_JIRAS


class TestPushComment:
    async def test_each_action_becomes_one_comment_and_its_id_is_stored(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        ticket, key = linked.ticket, linked.issue_key
        first = await add_action(sim_client, ticket["ID"], "First")
        second = await add_action(sim_client, ticket["ID"], "Second")
        await drain(sim_app)
        comments = jira_sim.issue(key).comments
        assert comment_lines(jira_sim.issue(key)) == ["First", "Second"]
        assert comments[0].properties["helpdesk-sync"]["actionId"] == first["ID"]
        assert (await get_action(sim_client, ticket["ID"], first["ID"]))[
            "JiraCommentID"
        ] == comments[0].id
        assert (await get_action(sim_client, ticket["ID"], second["ID"]))[
            "JiraCommentID"
        ] == comments[1].id

    async def test_action_type_to_push_is_honoured(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        ticket, key = linked.ticket, linked.issue_key
        await ok(
            await sim_client.put(f"{API}/JiraInstances/1", json={"ActionTypeToPush": "Comment"})
        )
        await add_action(sim_client, ticket["ID"], "Pushed", "Comment")
        await add_action(sim_client, ticket["ID"], "Kept", "Note")
        await add_action(sim_client, ticket["ID"], "Untyped", None)
        await drain(sim_app)
        assert comment_lines(jira_sim.issue(key)) == ["Pushed"]

    async def test_actions_on_unlinked_tickets_are_not_pushed(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        await create_ticket(sim_client, Name="Not linked")
        await add_action(sim_client, 2, "Nothing to Jira")
        await drain(sim_app)
        assert all(not issue.comments for issue in jira_sim.state.issues.values())

    async def test_server_errors_then_ok_give_one_comment(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        ticket, key = linked.ticket, linked.issue_key
        jira_sim.add_fault("POST", "/comment$", status=500, times=3)
        await add_action(sim_client, ticket["ID"], "Once")
        await drain(sim_app)
        assert len(jira_sim.issue(key).comments) == 1

    async def test_a_comment_whose_answer_was_lost_is_not_posted_again(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        ticket, key = linked.ticket, linked.issue_key
        jira_sim.add_fault("POST", "/comment$", status=502, after_write=True, times=1)
        created = await add_action(sim_client, ticket["ID"], "Once only")
        await drain(sim_app)
        (comment,) = jira_sim.issue(key).comments
        assert (await get_action(sim_client, ticket["ID"], created["ID"]))[
            "JiraCommentID"
        ] == comment.id

    async def test_the_create_runs_before_its_comments(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await add_action(sim_client, ticket["ID"], "While pending")
        await drain(sim_app)
        (issue,) = jira_sim.state.issues.values()
        assert comment_lines(issue) == ["While pending"]

    async def test_when_the_link_failed_the_comment_is_logged_and_dropped(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="DEMO-404")
        await add_action(sim_client, ticket["ID"], "Lost cause")
        await drain(sim_app)
        logs = [log.message for log in await sync_logs(sim_app)]
        assert any("not linked to Jira" in message for message in logs)
