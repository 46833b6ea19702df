"""The Jira webhook that calls the service: registered for the admin through Jira's webhook REST
API (`POST /JiraInstances/{ID}/RegisterWebhook`), and looked for by the instance's Test.

One webhook per instance, found by the address it calls (the instance's WebhookURL, whatever its
query), so a repeated registration updates it instead of adding a second. Jira Cloud signs its
deliveries with the WebhookSecret; Server/Data Center cannot sign, so there the secret is in the
URL's query (never echoed back). Managing webhooks needs Jira administrator rights: without them
the answer says so, with the manual steps of docs/jira-webhooks.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode, urlsplit

import structlog

from app.core.errors import Conflict
from app.integration.access import connection_for
from app.integration.instances import webhook_url
from app.integration.models import JiraInstance
from app.integration.schemas import WebhookRegistrationOut
from app.integration.services import Services
from app.jira.client import JiraClient
from app.jira.errors import JiraAmbiguousResult, JiraAuthError, JiraError, JiraNotFound
from app.jira.webhook_admin import JiraWebhook, webhook_body

log = structlog.get_logger(__name__)

# What the service reads (docs/jira-webhooks.md, "Events to tick").
EVENTS = ("jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated")


class WebhookState(StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    MISSING = "Missing"
    UNKNOWN = "Unknown"  # the user may not list Jira's webhooks


@dataclass(frozen=True)
class WantedWebhook:
    name: str
    url: str  # as Jira calls it: with `?secret=` on Server/Data Center
    secret: str | None  # sent for Cloud to sign with


def wanted_webhook(name: str, url: str, secret: str, *, cloud: bool) -> WantedWebhook:
    """The webhook the instance needs (pure)."""
    title = f"Helpdesk sync ({name})"
    if cloud:
        return WantedWebhook(title, url, secret)
    return WantedWebhook(title, f"{url}?{urlencode({'secret': secret})}", None)


def calls(registered_url: str, url: str) -> bool:
    """Whether a webhook's URL is the instance's WebhookURL, whatever its query (pure)."""
    mine, theirs = urlsplit(url), urlsplit(registered_url.strip())
    return (theirs.scheme.lower(), theirs.netloc.lower(), theirs.path.rstrip("/")) == (
        mine.scheme.lower(),
        mine.netloc.lower(),
        mine.path.rstrip("/"),
    )


def ours(webhooks: Sequence[JiraWebhook], url: str) -> JiraWebhook | None:
    """The webhook that calls the instance's WebhookURL, an enabled one first (pure)."""
    found = [hook for hook in webhooks if calls(hook.url, url)]
    return next((hook for hook in found if hook.enabled), found[0] if found else None)


def state_of(webhooks: Sequence[JiraWebhook], url: str) -> WebhookState:
    found = ours(webhooks, url)
    if found is None:
        return WebhookState.MISSING
    return WebhookState.ENABLED if found.enabled else WebhookState.DISABLED


def manual_steps(url: str) -> str:
    return (
        "add it by hand in Jira (Settings → System → WebHooks → Create a WebHook): URL "
        f"{url} (on Server/Data Center with ?secret=<WebhookSecret>), events Issue updated and "
        "deleted, Comment created and updated, secret = WebhookSecret on Cloud; see "
        "docs/jira-webhooks.md."
    )


def state_words(state: WebhookState, url: str) -> str:
    """What the Test says of the webhook, in plain words (pure)."""
    if state is WebhookState.ENABLED:
        return f"Jira calls {url} (the webhook is registered and enabled)."
    if state is WebhookState.DISABLED:
        return (
            f"A webhook calling {url} exists but is disabled: Jira will not call the service. "
            "Enable it in Jira, or run RegisterWebhook."
        )
    if state is WebhookState.MISSING:
        return (
            f"No Jira webhook calls {url}: changes in Jira will not reach tickets. Run "
            f"RegisterWebhook, or {manual_steps(url)}"
        )
    return (
        "Cannot tell whether Jira calls the service: listing Jira's webhooks needs Jira "
        f"administrator rights. Check in Jira that a webhook calls {url}, or {manual_steps(url)}"
    )


async def webhook_state(client: JiraClient, url: str) -> WebhookState:
    """Whether a webhook calling `url` exists and is enabled (Unknown without admin rights)."""
    try:
        return state_of(await client.webhooks.registered(), url)
    except (JiraAuthError, JiraNotFound):
        return WebhookState.UNKNOWN


async def register_webhook(
    services: Services, instance: JiraInstance, public_url: str, *, timeout: float
) -> WebhookRegistrationOut:
    """Create, or update, the instance's one webhook in Jira; an admin is waiting, so each call
    is tried once and the whole registration ends after `timeout` seconds."""
    # What the instance lacks is its state, not the request's fault: 409.
    if not instance.host_name or not instance.api_token_encrypted:
        raise Conflict("Set the instance's HostName and ApiToken first.")
    if not instance.webhook_secret_encrypted:
        raise Conflict(
            "Set the instance's WebhookSecret first: the service refuses deliveries without it."
        )
    url = webhook_url(public_url, instance.id or 0)
    secret = services.secrets.decrypt(instance.webhook_secret_encrypted)
    answer = WebhookRegistrationOut(success=False, message="", url=url, events=list(EVENTS))
    try:
        async with (
            asyncio.timeout(timeout),
            services.jira.probe(
                connection_for(instance, services.secrets), timeout=timeout
            ) as client,
        ):
            wanted = wanted_webhook(
                instance.name, url, secret, cloud=await client.webhooks.is_cloud()
            )
            body = webhook_body(
                name=wanted.name, url=wanted.url, events=EVENTS, secret=wanted.secret
            )
            existing = ours(await client.webhooks.registered(), url)
            if existing is None:
                made, answer.status = await client.webhooks.create(body), "Created"
            else:
                made, answer.status = await client.webhooks.update(existing.id, body), "Updated"
    except JiraAuthError as exc:
        answer.message = (
            f"Jira refused to manage webhooks for user {instance.user_name} ({exc.message}): "
            "that needs Jira administrator rights. Give the user those rights, or "
            + manual_steps(url)
        )
        return answer
    except JiraNotFound:
        answer.message = f"This Jira has no webhook REST API: {manual_steps(url)}"
        return answer
    except JiraAmbiguousResult:
        answer.message = (
            "Jira did not confirm the new webhook. Run RegisterWebhook again: it finds the "
            "webhook by its URL rather than adding a second one."
        )
        return answer
    except TimeoutError:
        answer.message = f"Jira at {instance.host_name} did not answer within {timeout:g} seconds."
        return answer
    except JiraError as exc:
        answer.message = f"Jira at {instance.host_name} answered: {exc.message}"
        return answer
    log.info("jira.webhook.registered", instance=instance.id, status=answer.status, id=made.id)
    answer.success, answer.webhook_id = True, made.id
    events = ", ".join(EVENTS)
    answer.message = f"{answer.status} Jira's webhook {made.id}: Jira calls {url} on {events}."
    return answer
