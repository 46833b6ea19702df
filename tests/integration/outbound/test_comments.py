"""`jira.push_comment`: one Jira comment per pushed action, never twice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.integration.job_kinds import PushComment
from app.jira.client import JiraClient
from app.jira.errors import JiraAmbiguousResult, JiraError, JiraUnavailable
from app.jobs.models import JobStatus
from tests.conftest import BOTH_JIRAS
from tests.support.helpdesk import API, add_action, create_ticket, get_action, ok
from tests.support.jobs import drain, jobs_of_kind, worker_writes_no_end
from tests.support.outbound import comment_lines, sync_logs
from tests.support.world import Helpdesk, LinkedTicket, linked_ticket

pytestmark = BOTH_JIRAS
DONE = JobStatus.DONE


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


class TestDone:
    """A push's job is done in the transaction that keeps its outcome: the worker has nothing
    more to write for it."""

    async def test_a_comment_pushed(
        self,
        sim_app: Any,
        sim_client: httpx.AsyncClient,
        jira_sim: Any,
        linked: LinkedTicket,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        worker_writes_no_end(monkeypatch)  # the link's job ended before
        await add_action(sim_client, linked.ticket["ID"], "Pushed")
        await drain(sim_app)
        assert comment_lines(jira_sim.issue(linked.issue_key)) == ["Pushed"]
        assert [job.status for job in await jobs_of_kind(sim_app, PushComment.kind)] == [
            JobStatus.DONE
        ]

    async def test_a_comment_dropped_because_the_link_failed(
        self,
        sim_app: Any,
        sim_client: httpx.AsyncClient,
        helpdesk: Helpdesk,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="DEMO-404")
        await add_action(sim_client, ticket["ID"], "Lost cause")
        worker_writes_no_end(monkeypatch)  # the link's job fails: the worker writes that
        await drain(sim_app)
        assert [job.status for job in await jobs_of_kind(sim_app, PushComment.kind)] == [
            JobStatus.DONE
        ]


class TestFormatting:
    async def test_an_html_action_reaches_jira_as_wiki_markup(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        html = (
            "<p>Hello <b>team</b>, see <a href='https://docs.test/x'>the guide</a>.</p>"
            "<ul><li>step <i>one</i></li><li>run <code>make test</code></li></ul>"
        )
        await ok(
            await sim_client.post(
                f"{API}/Tickets/{linked.ticket['ID']}/Actions",
                json={"Description": html, "CreatorName": "Ann [ops]"},
            ),
            201,
        )
        await drain(sim_app)
        (comment,) = jira_sim.issue(linked.issue_key).comments
        assert comment.body == (
            "Hello *team*, see [the guide|https://docs.test/x].\n\n"
            "* step _one_\n* run {{make test}}\n\n— Ann \\[ops\\] (helpdesk)"
        )


class TestServiceManagementAudience:
    """An action not visible on the portal is an internal note on a Service Management issue
    (checked on Jira's side); a portal-visible one is a reply the customer sees."""

    @pytest.fixture
    async def service_desk(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> LinkedTicket:
        return await linked_ticket(sim_app, sim_client, jira_sim, project="SUP")

    def audience(self, jira_sim: Any, key: str) -> list[tuple[str, bool]]:
        """Each comment's first line and whether the customer sees it, as Jira says it."""
        out = []
        for comment in jira_sim.issue(key).comments:
            shown = jira_sim.renderer().comment(comment, with_properties=True)
            if jira_sim.flavor == "cloud":
                public = shown["jsdPublic"]
            else:
                (prop,) = [p for p in shown["properties"] if p["key"] == "sd.public.comment"]
                public = not prop["value"]["internal"]
            out.append((comment.body.split("\n")[0], public))
        return out

    async def test_by_the_action_or_else_its_type(
        self,
        sim_app: Any,
        sim_client: httpx.AsyncClient,
        jira_sim: Any,
        helpdesk: Helpdesk,
        service_desk: LinkedTicket,
    ) -> None:
        ticket_id = service_desk.ticket["ID"]
        await ok(
            await sim_client.put(
                f"{API}/ActionTypes/{helpdesk.action_types['Comment']}",
                json={"IsVisibleOnPortal": True},
            )
        )
        actions = f"{API}/Tickets/{ticket_id}/Actions"
        for body in (
            {"Description": "Note to self", "ActionType": "Note"},
            {"Description": "Reply by type", "ActionType": "Comment"},
            {"Description": "Note by action", "ActionType": "Comment", "IsVisibleOnPortal": False},
            {"Description": "Reply by action", "ActionType": "Note", "IsVisibleOnPortal": True},
            {"Description": "Untyped note"},
        ):
            await ok(await sim_client.post(actions, json=body), 201)
        await drain(sim_app)
        assert self.audience(jira_sim, service_desk.issue_key) == [
            ("Note to self", False),
            ("Reply by type", True),
            ("Note by action", False),
            ("Reply by action", True),
            ("Untyped note", False),
        ]

    async def test_on_a_jira_software_issue_every_comment_is_for_the_team_as_before(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        await add_action(sim_client, linked.ticket["ID"], "A note")
        await drain(sim_app)
        (comment,) = jira_sim.issue(linked.issue_key).comments
        assert comment.body.startswith("A note")
        shown = jira_sim.renderer().comment(comment)
        assert shown.get("jsdPublic", True) is True  # no Service Management: nothing hidden


class TestABurstPostedTogether:
    """The comments of one ticket queued together are posted by one job, in order, each as its
    own job would post it."""

    async def burst(self, sim_client: httpx.AsyncClient, linked: LinkedTicket) -> list[int]:
        return [
            (await add_action(sim_client, linked.ticket["ID"], f"Burst {n}"))["ID"]
            for n in range(4)
        ]

    async def outcome(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> list[tuple[str, int]]:
        """Each push's job status and attempts; checked: each comment posted once, in order,
        and its id kept on its action."""
        comments = jira_sim.issue(linked.issue_key).comments
        assert [comment.body.split("\n")[0] for comment in comments] == [
            f"Burst {n}" for n in range(4)
        ]
        jobs = await jobs_of_kind(sim_app, PushComment.kind)
        for job, comment in zip(jobs, comments, strict=True):
            action_id = job.payload["action_id"]
            action = await get_action(sim_client, linked.ticket["ID"], action_id)
            assert action["JiraCommentID"] == comment.id
        return [(job.status, job.attempts) for job in jobs]

    def failing_call(self, monkeypatch: pytest.MonkeyPatch, number: int, error: JiraError) -> None:
        """The `number`th comment call fails with `error`; `JiraAmbiguousResult`: after Jira
        added the comment (its answer was lost)."""
        real = JiraClient.add_comment
        calls = 0

        async def add_comment(client: JiraClient, *args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == number and not isinstance(error, JiraAmbiguousResult):
                raise error
            comment = await real(client, *args, **kwargs)
            if calls == number:
                raise error
            return comment

        monkeypatch.setattr(JiraClient, "add_comment", add_comment)

    async def test_by_one_job_each_done_once(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        actions = await self.burst(sim_client, linked)
        assert await drain(sim_app) == 1
        assert await self.outcome(sim_app, sim_client, jira_sim, linked) == [(DONE, 1)] * 4
        comments = jira_sim.issue(linked.issue_key).comments
        assert [log.message for log in await sync_logs(sim_app)][-4:] == [
            f"Action {action} added to {linked.issue_key} as comment {comment.id}"
            for action, comment in zip(actions, comments, strict=True)
        ]

    @pytest.mark.parametrize(
        ("failing", "error", "attempts"),
        [
            # those before it kept; it tried again; those after it queued again as they were
            (2, JiraUnavailable("Jira is down", status=503), [1, 2, 1, 1]),
            # its answer lost: found by its next attempt, not posted again
            (2, JiraAmbiguousResult("The answer was lost"), [1, 2, 1, 1]),
            # the job's own call: the job is retried, the others wait for it untried
            (1, JiraUnavailable("Jira is down", status=503), [2, 1, 1, 1]),
        ],
        ids=["a later one fails", "a later one's answer is lost", "the first fails"],
    )
    async def test_when_one_fails(
        self,
        sim_app: Any,
        sim_client: httpx.AsyncClient,
        jira_sim: Any,
        linked: LinkedTicket,
        monkeypatch: pytest.MonkeyPatch,
        failing: int,
        error: JiraError,
        attempts: list[int],
    ) -> None:
        await self.burst(sim_client, linked)
        self.failing_call(monkeypatch, failing, error)
        await drain(sim_app)
        assert await self.outcome(sim_app, sim_client, jira_sim, linked) == [
            (DONE, n) for n in attempts
        ]
        messages = [log.message for log in await sync_logs(sim_app)]
        found = sum("(found from an earlier attempt)" in message for message in messages)
        assert found == isinstance(error, JiraAmbiguousResult)
