"""The five-step project-key precedence of a new Jira issue, as one table of cases.

The pure rule's test (`project_key_for`) and the tests that create the issue through the service
(in process and end to end) run these same cases. Each case is what a helpdesk holds: the Default
instance's DefaultProjectKey (DEMO) and AlwaysUseDefaultProjectKey, the ticket's product (name
and JiraProjectKey) and reported version (JiraProjectKey); and the project the issue lands in.
The simulator has the projects DEMO and SUP, so each step picks a project the next would not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from app.integration.outbound.rules import ProjectKeyInputs, ProjectKeySource
from tests.support.helpdesk import API, ok
from tests.support.world import Helpdesk, add_product, add_version

DEFAULT_PROJECT_KEY = "DEMO"  # what `configure_default_instance` sets


@dataclass(frozen=True)
class ProjectKeyCase:
    expected: str
    source: ProjectKeySource
    always_use_default: bool = False
    product_name: str | None = None
    product_key: str | None = None
    version_key: str | None = None

    def inputs(self) -> ProjectKeyInputs:
        """What the rule sees for this helpdesk."""
        return ProjectKeyInputs(
            always_use_default=self.always_use_default,
            default_project_key=DEFAULT_PROJECT_KEY,
            version_project_key=self.version_key,
            product_name=self.product_name,
            product_project_key=self.product_key,
        )

    def alone(self) -> ProjectKeyInputs:
        """Only what this case's own step looks at: the step needs nothing else."""
        blank = ProjectKeyInputs(False, None, None, None, None)
        mine: dict[ProjectKeySource, dict[str, Any]] = {
            ProjectKeySource.ALWAYS_DEFAULT: {
                "always_use_default": True,
                "default_project_key": DEFAULT_PROJECT_KEY,
            },
            ProjectKeySource.VERSION: {"version_project_key": self.version_key},
            ProjectKeySource.PRODUCT_KEY: {"product_project_key": self.product_key},
            ProjectKeySource.PRODUCT_NAME: {"product_name": self.product_name},
            ProjectKeySource.DEFAULT: {"default_project_key": DEFAULT_PROJECT_KEY},
        }
        return replace(blank, **mine[self.source])

    async def set_up(self, client: httpx.AsyncClient, helpdesk: Helpdesk) -> dict[str, Any]:
        """Give a `ready_helpdesk` this case through the API; the new ticket's elements."""
        if self.always_use_default:
            await ok(
                await client.put(
                    f"{API}/JiraInstances/1", json={"AlwaysUseDefaultProjectKey": True}
                )
            )
        if self.product_name is None:
            return {}
        product = await add_product(client, helpdesk, self.product_name, self.product_key)
        if self.version_key is None:
            return {"ProductID": product}
        await add_version(client, product, "1.0", self.version_key)
        return {"ProductID": product, "ReportedVersion": "1.0"}


PROJECT_KEY_CASES = [
    pytest.param(
        ProjectKeyCase(
            "DEMO",
            ProjectKeySource.ALWAYS_DEFAULT,
            always_use_default=True,
            product_name="Widget",
            product_key="SUP",
        ),
        id="always_default",
    ),
    pytest.param(
        ProjectKeyCase(
            "SUP",
            ProjectKeySource.VERSION,
            product_name="Widget",
            product_key="DEMO",
            version_key="SUP",
        ),
        id="version_key",
    ),
    pytest.param(
        ProjectKeyCase(
            "SUP", ProjectKeySource.PRODUCT_KEY, product_name="Widget", product_key="SUP"
        ),
        id="product_key",
    ),
    pytest.param(
        ProjectKeyCase("SUP", ProjectKeySource.PRODUCT_NAME, product_name="SUP"),
        id="product_name",
    ),
    pytest.param(ProjectKeyCase("DEMO", ProjectKeySource.DEFAULT), id="default_key"),
]
