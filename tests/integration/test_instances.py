"""Jira instances at the service level: where the stored credential may be sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.errors import BadRequest
from app.core.security import SecretBox
from app.integration.diagnostics import test_connection as check_connection
from app.integration.instances import default_instance, update_instance
from app.integration.models import JiraInstance
from app.integration.schemas import JiraInstanceInput
from app.integration.services import Services
from app.jira.pool import JiraClientPool
from tests.conftest import SECRET_KEY
from tests.jira.test_pool import PoolSettings

BOX = SecretBox(SECRET_KEY)
OLD_HOST = "https://jira-old.example.com"
NEW_HOST = "https://jira-new.example.com"


async def configured(session: Any) -> JiraInstance:
    """The Default instance with a host, a user and a stored token."""
    instance = await default_instance(session)
    data = JiraInstanceInput.model_validate(
        {"HostName": OLD_HOST, "UserName": "svc@example.com", "ApiToken": "the-token"}
    )
    return await update_instance(session, instance, data, BOX, allow_private=True)


async def update(session: Any, instance: JiraInstance, body: dict[str, Any]) -> JiraInstance:
    data = JiraInstanceInput.model_validate(body)
    return await update_instance(session, instance, data, BOX, allow_private=True)


class TestTheStoredTokenStaysWithItsHost:
    @pytest.mark.parametrize(
        ("body", "named"),
        [
            ({"HostName": NEW_HOST}, "HostName"),
            ({"UserName": "someone-else@example.com"}, "UserName"),
            ({"AuthMethod": "Bearer"}, "AuthMethod"),
            ({"HostName": NEW_HOST, "UserName": "x"}, "HostName and UserName"),
        ],
    )
    async def test_changing_where_it_goes_without_the_token_is_refused(
        self, session: Any, body: dict[str, Any], named: str
    ) -> None:
        instance = await configured(session)
        stored = instance.api_token_encrypted
        with pytest.raises(BadRequest) as refused:
            await update(session, instance, body)
        assert refused.value.message.startswith(f"Changing {named} needs ApiToken again")
        assert instance.host_name == OLD_HOST
        assert instance.user_name == "svc@example.com"
        assert instance.auth_method == "Basic"
        assert instance.api_token_encrypted == stored

    async def test_the_same_host_spelled_again_needs_no_token(self, session: Any) -> None:
        instance = await configured(session)
        await update(session, instance, {"HostName": f"{OLD_HOST}/", "UserName": "svc@example.com"})
        assert instance.host_name == OLD_HOST
        assert BOX.decrypt(instance.api_token_encrypted or "") == "the-token"

    async def test_a_new_host_with_a_new_token_takes_both(self, session: Any) -> None:
        instance = await configured(session)
        await update(session, instance, {"HostName": NEW_HOST, "ApiToken": "new-token"})
        assert instance.host_name == NEW_HOST
        assert BOX.decrypt(instance.api_token_encrypted or "") == "new-token"

    async def test_a_new_host_with_a_null_token_clears_it_and_test_sends_no_authorization(
        self, session: Any
    ) -> None:
        instance = await configured(session)
        await update(session, instance, {"HostName": NEW_HOST, "ApiToken": None})
        assert instance.host_name == NEW_HOST
        assert instance.api_token_encrypted is None
        sent: list[httpx.Request] = []

        def jira(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return httpx.Response(200, json={})

        pool = JiraClientPool.from_settings(PoolSettings(), transport=httpx.MockTransport(jira))
        answer = await check_connection(Services(jira=pool, secrets=BOX), instance, timeout=5)
        await pool.aclose()
        assert answer.success is False
        assert "no ApiToken" in answer.message
        assert [request for request in sent if "authorization" in request.headers] == []

    async def test_no_stored_token_means_nothing_to_protect(self, session: Any) -> None:
        instance = await default_instance(session)
        await update(
            session, instance, {"HostName": NEW_HOST, "UserName": "a", "AuthMethod": "Bearer"}
        )
        assert instance.host_name == NEW_HOST
        assert instance.auth_method == "Bearer"
