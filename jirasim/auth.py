"""Who is calling: HTTP Basic (name or e-mail + token/password) or a Bearer token."""

from __future__ import annotations

import base64
import binascii

from jirasim.errors import JiraError
from jirasim.model import User
from jirasim.state import SimState

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
FAILED = "Client must be authenticated to access this resource."


def authenticate(state: SimState, authorization: str | None) -> User:
    """The user the Authorization header proves, or a 401 as Jira answers it."""
    if not authorization:
        raise JiraError(401, NOT_AUTHENTICATED, headers={"WWW-Authenticate": 'Basic realm="Jira"'})
    scheme, _, credentials = authorization.partition(" ")
    user: User | None = None
    if scheme.lower() == "basic":
        try:
            name, _, secret = base64.b64decode(credentials.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            name, secret = "", ""
        found = state.find_user(name) if name else None
        if found is not None and secret in found.tokens:
            user = found
    elif scheme.lower() == "bearer":
        token = credentials.strip()
        user = next((u for u in state.users.values() if token and token in u.tokens), None)
    if user is None or not user.active:
        raise JiraError(
            401,
            FAILED,
            headers={
                "WWW-Authenticate": 'Basic realm="Jira"',
                "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
            },
        )
    return user
