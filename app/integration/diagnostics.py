"""`POST /JiraInstances/{ID}/Test`: can the service work with this Jira, and if not, why not."""

from __future__ import annotations

import asyncio

from app.integration.access import connection_for
from app.integration.instances import webhook_url
from app.integration.models import JiraInstance
from app.integration.schemas import ConnectionTestOut
from app.integration.services import Services
from app.integration.webhook_registration import state_words, webhook_state
from app.jira.errors import (
    JiraAddressRefused,
    JiraAuthError,
    JiraError,
    JiraNotFound,
    JiraTransientError,
)
from app.jira.schemas import JiraField, find_field, holds_text

# What the integration needs, and how Jira's permission screen names it.
REQUIRED_PERMISSIONS = {
    "BROWSE_PROJECTS": "Browse Projects",
    "CREATE_ISSUES": "Create Issues",
    "LINK_ISSUES": "Link Issues",
    "ADD_COMMENTS": "Add Comments",
    "EDIT_ISSUES": "Edit Issues",
}


def _who(instance: JiraInstance) -> str:
    return instance.user_name or "(no user name)"


async def test_connection(
    services: Services, instance: JiraInstance, *, timeout: float, public_url: str
) -> ConnectionTestOut:
    """Calls `myself` and `mypermissions` and says in plain words what is wrong, if anything,
    and whether Jira will call the service (a webhook calling the instance's WebhookURL).

    An admin is waiting: each call is tried once, and the whole check ends after `timeout`
    seconds even if the name lookup or the connection hangs.
    """
    if not instance.host_name:
        return ConnectionTestOut(success=False, message="The instance has no HostName yet.")
    if not instance.api_token_encrypted:
        return ConnectionTestOut(
            success=False, message="The instance has no ApiToken (or password) yet."
        )
    try:
        async with (
            asyncio.timeout(timeout),
            services.jira.probe(
                connection_for(instance, services.secrets), timeout=timeout
            ) as client,
        ):
            try:
                user = await client.myself()
            except JiraAuthError as exc:
                return ConnectionTestOut(
                    success=False,
                    message=(
                        f"Jira rejected the credentials for user {_who(instance)}: {exc.message}. "
                        "Check UserName (the e-mail address on Jira Cloud, the user name on Jira "
                        "Server) and ApiToken (an API token on Cloud; a password, or a personal "
                        "access token with AuthMethod Bearer, on Server)."
                    ),
                )
            except JiraNotFound:
                return ConnectionTestOut(
                    success=False,
                    message=(
                        f"{instance.host_name} answered, but not like Jira: "
                        "/rest/api/2/myself does not exist there. Check HostName "
                        "(including any context path such as /jira)."
                    ),
                )
            granted = await client.my_permissions(REQUIRED_PERMISSIONS)
            fields = await client.fields() if instance.crm_property_field else []
            url = webhook_url(public_url, instance.id or 0)
            webhook = await webhook_state(client, url)
    except TimeoutError:
        return ConnectionTestOut(
            success=False,
            message=(
                f"Jira at {instance.host_name} did not answer within {timeout:g} seconds. "
                "Check HostName, and that this server can reach it (DNS, proxy, firewall)."
            ),
        )
    except JiraAddressRefused as exc:
        return ConnectionTestOut(success=False, message=exc.message)
    except JiraTransientError as exc:
        return ConnectionTestOut(
            success=False,
            message=f"Could not reach Jira at {instance.host_name}: {exc.message}",
        )
    except JiraError as exc:
        return ConnectionTestOut(
            success=False, message=f"Jira at {instance.host_name} answered: {exc.message}"
        )
    name = user.display_name or user.name or user.email_address or _who(instance)
    missing = [key for key in REQUIRED_PERMISSIONS if not granted.get(key)]
    problems = []
    if missing:
        words = ", ".join(f"{REQUIRED_PERMISSIONS[key]} ({key})" for key in missing)
        problems.append(
            f"this user lacks the Jira permission(s) {words}. Grant them in the projects' "
            "permission schemes (and activate issue linking globally for Link Issues)."
        )
    if instance.crm_property_field:
        problems += crm_field_problem(instance.crm_property_field, fields)
    hook = {"webhook": webhook, "webhook_message": state_words(webhook, url)}
    if problems:
        return ConnectionTestOut(
            success=False,
            user=name,
            missing_permissions=missing,
            message=f"Connected as {name}, but " + " Also, ".join(problems),
            **hook,
        )
    return ConnectionTestOut(
        success=True, user=name, message=f"Connected to {instance.host_name} as {name}.", **hook
    )


def crm_field_problem(configured: str, fields: list[JiraField]) -> list[str]:
    """What is wrong with CrmPropertyField on this Jira, in plain words (pure): nothing, or it
    names no field, or a field that takes no text."""
    found = find_field(fields, configured)
    if found is None:
        return [
            f"CrmPropertyField {configured!r} is not a field of this Jira: give the name or id "
            '(customfield_…) of a text custom field, e.g. one named "CRM Property".'
        ]
    if not holds_text(found):
        kind = found.schema_.type if found.schema_ and found.schema_.type else "non-text"
        article = "an" if kind[0] in "aeiou" else "a"
        return [
            f"CrmPropertyField {configured!r} is Jira's field {found.name} ({found.id}), "
            f"{article} {kind} field: setcrmproperties writes text, so choose a text custom field."
        ]
    return []
