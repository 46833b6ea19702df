"""What the helpdesk announces: frozen facts, a refusal that carries its reason, and a helpdesk
that knows nothing of Jira (app/helpdesk/events.py)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from app.core.events import DomainEvent
from app.helpdesk.events import (
    ActionCreated,
    ActionTypeDeleteRequested,
    JiraKeyRequested,
    StillUsed,
)

EVENTS = [
    ActionCreated(ticket_id=1, action_id=2),
    JiraKeyRequested(ticket_id=1, jira_key="DEMO-1", jira_instance_id=None, actor="ann"),
    ActionTypeDeleteRequested(action_type_id=3),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: type(event).__name__)
def test_events_are_frozen_domain_events(event: DomainEvent) -> None:
    assert isinstance(event, DomainEvent)
    field = dataclasses.fields(event)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(event, field, 99)


def test_events_compare_by_value() -> None:
    assert ActionCreated(1, 2) == ActionCreated(ticket_id=1, action_id=2)
    assert ActionCreated(1, 2) != ActionCreated(1, 3)


def test_still_used_carries_its_reason() -> None:
    refusal = StillUsed("a Jira instance pushes this action type")
    assert refusal.reason == str(refusal) == "a Jira instance pushes this action type"


def helpdesk_imports() -> dict[str, set[str]]:
    package = Path(__file__).resolve().parents[2] / "app" / "helpdesk"
    found: dict[str, set[str]] = {}
    for source in sorted(package.glob("*.py")):
        modules: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
        found[source.name] = modules
    return found


def test_the_helpdesk_imports_nothing_of_jira_or_the_integration() -> None:
    """It announces events; the composition root subscribes the integration to them."""
    imports = helpdesk_imports()
    assert "events.py" in imports
    jira = {
        name: sorted(m for m in modules if m.startswith(("app.jira", "app.integration")))
        for name, modules in imports.items()
    }
    assert {name: found for name, found in jira.items() if found} == {}
