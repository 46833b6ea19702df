"""How the service authenticates to Jira."""

from __future__ import annotations

from enum import StrEnum


class AuthMethod(StrEnum):
    """How the service authenticates: Cloud e-mail + API token and Server user + password are both
    HTTP Basic; a Server/Data Center personal access token is sent as Bearer."""

    BASIC = "Basic"
    BEARER = "Bearer"
