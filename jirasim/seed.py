"""The demo setup: two projects, three issue types, three statuses, a select field, two users."""

from __future__ import annotations

from jirasim.state import SimState

INTEGRATION_EMAIL = "integration@example.com"
INTEGRATION_TOKEN = "demo-token"


def base_statuses(state: SimState) -> None:
    state.add_status("To Do", "new")
    state.add_status("In Progress", "indeterminate")
    state.add_status("Done", "done")


def seed_demo(state: SimState) -> None:
    """DEMO (Jira Software) and SUP (Service Management) with Bug/Task/Story; `Severity`
    (customfield_10010) required for SUP bugs."""
    types = ("Bug", "Task", "Story")
    state.add_issue_type("Bug", "A problem which impairs or prevents the functions of the product.")
    state.add_issue_type("Task", "A task that needs to be done.")
    state.add_issue_type("Story", "Functionality or a feature expressed as a user goal.")
    state.add_project("DEMO", "Demo Project", types)
    state.add_project("SUP", "Support", types, type_key="service_desk")
    state.add_field("Severity", "option", ["Critical", "High", "Medium", "Low"])
    state.add_field("Helpdesk Ticket", "string")
    state.set_required("SUP", "Bug", ["Severity"])
    state.add_user(
        "integration",
        email=INTEGRATION_EMAIL,
        display_name="Helpdesk Integration",
        tokens=[INTEGRATION_TOKEN],
    )
    state.add_user("jdoe", email="jdoe@example.com", display_name="John Doe", tokens=["jdoe-token"])
    for project in state.projects.values():
        project.lead = "jdoe"
