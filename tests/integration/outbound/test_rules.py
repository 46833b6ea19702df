"""Pure rules of the ticket → Jira direction: JiraKey values, project key precedence, pushes."""

from __future__ import annotations

import pytest

from app.integration.outbound.rules import (
    NEW_JIRA_ISSUE,
    LinkRequest,
    LinkRequestKind,
    ProjectKeyInputs,
    ProjectKeySource,
    issue_type_for,
    jql_string,
    parse_jira_key,
    project_key_for,
    should_push_action,
)
from tests.support.project_keys import PROJECT_KEY_CASES, ProjectKeyCase


class TestParseJiraKey:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("TEST-12", LinkRequest(LinkRequestKind.EXISTING, "TEST-12")),
            (" test-12 ", LinkRequest(LinkRequestKind.EXISTING, "TEST-12")),
            ("AB_C2-7", LinkRequest(LinkRequestKind.EXISTING, "AB_C2-7")),
            ("NewJiraIssue", LinkRequest(LinkRequestKind.NEW_ISSUE, NEW_JIRA_ISSUE)),
            ("newjiraissue", LinkRequest(LinkRequestKind.NEW_ISSUE, NEW_JIRA_ISSUE)),
            ("", LinkRequest(LinkRequestKind.UNLINK)),
            (None, LinkRequest(LinkRequestKind.UNLINK)),
        ],
    )
    def test_values(self, given: str | None, expected: LinkRequest) -> None:
        assert parse_jira_key(given) == expected

    @pytest.mark.parametrize("given", ["TEST", "TEST-", "TEST-0", "12-TEST", "TE ST-1", "-1"])
    def test_impossible_keys_are_refused(self, given: str) -> None:
        with pytest.raises(ValueError, match="neither an issue key"):
            parse_jira_key(given)


def inputs(**overrides: object) -> ProjectKeyInputs:
    values: dict[str, object] = {
        "always_use_default": False,
        "default_project_key": None,
        "version_project_key": None,
        "product_name": None,
        "product_project_key": None,
    }
    values.update(overrides)
    return ProjectKeyInputs(**values)  # type: ignore[arg-type]


class TestProjectKeyPrecedence:
    """The seed's five cases (the table the issue-creating tests run too), each also on its own;
    then each step against the ones after it."""

    @pytest.mark.parametrize("case", PROJECT_KEY_CASES)
    def test_each_case(self, case: ProjectKeyCase) -> None:
        assert project_key_for(case.inputs()) == (case.expected, case.source)

    @pytest.mark.parametrize("case", PROJECT_KEY_CASES)
    def test_each_case_on_its_own(self, case: ProjectKeyCase) -> None:
        assert project_key_for(case.alone()) == (case.expected, case.source)

    def test_always_default_beats_version_product_key_and_name(self) -> None:
        everything = inputs(
            always_use_default=True,
            default_project_key="DEF",
            version_project_key="VER",
            product_name="Widget",
            product_project_key="WID",
        )
        assert project_key_for(everything) == ("DEF", ProjectKeySource.ALWAYS_DEFAULT)

    def test_always_default_without_a_default_key_falls_through(self) -> None:
        case = inputs(always_use_default=True, product_project_key="WID", product_name="W")
        assert project_key_for(case) == ("WID", ProjectKeySource.PRODUCT_KEY)

    def test_version_key_beats_product_key_name_and_default(self) -> None:
        case = inputs(
            default_project_key="DEF",
            version_project_key="VER",
            product_name="Widget",
            product_project_key="WID",
        )
        assert project_key_for(case) == ("VER", ProjectKeySource.VERSION)

    def test_product_key_beats_product_name_and_default(self) -> None:
        case = inputs(default_project_key="DEF", product_name="Widget", product_project_key="WID")
        assert project_key_for(case) == ("WID", ProjectKeySource.PRODUCT_KEY)

    def test_product_name_beats_default(self) -> None:
        case = inputs(default_project_key="DEF", product_name="Widget")
        assert project_key_for(case) == ("Widget", ProjectKeySource.PRODUCT_NAME)

    def test_blank_values_count_as_not_set(self) -> None:
        case = inputs(version_project_key="  ", product_project_key="", default_project_key="D")
        assert project_key_for(case) == ("D", ProjectKeySource.DEFAULT)

    def test_nothing_applies(self) -> None:
        assert project_key_for(inputs(always_use_default=True)) is None


class TestShouldPushAction:
    @pytest.mark.parametrize(
        ("source", "type_id", "push_id", "status", "expected"),
        [
            ("Helpdesk", 1, None, "Linked", True),
            ("Helpdesk", None, None, "Linked", True),
            ("Helpdesk", 1, 1, "Linked", True),
            ("Helpdesk", 2, 1, "Linked", False),
            ("Helpdesk", None, 1, "Linked", False),
            ("Helpdesk", 1, None, "Pending", True),
            ("Helpdesk", 1, None, "None", False),
            ("Helpdesk", 1, None, "Error", False),
            ("Jira", 1, None, "Linked", False),
        ],
    )
    def test_table(
        self, source: str, type_id: int | None, push_id: int | None, status: str, expected: bool
    ) -> None:
        assert (
            should_push_action(
                source=source, action_type_id=type_id, push_type_id=push_id, link_status=status
            )
            is expected
        )


def test_issue_type_comes_from_the_mapping_else_the_ticket_type_name() -> None:
    assert issue_type_for("Defect", {"defect": "Bug"}) == "Bug"
    assert issue_type_for("Task", {"defect": "Bug"}) == "Task"


def test_jql_string_escapes_quotes_and_backslashes() -> None:
    assert jql_string('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
