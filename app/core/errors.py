"""Errors the API answers with: each carries an HTTP status, a stable code and a plain message."""

from __future__ import annotations


class LostRace(Exception):
    """A unit of work lost a race with a concurrent one (see `db.lost_a_race`) and was rolled
    back: nothing of it was written, and doing it again gives the answer the sequential case
    gives. Not an `ApiError`: no caller should see it."""


class ApiError(Exception):
    status_code = 400
    code = "BadRequest"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(ApiError):
    pass


class BadReference(BadRequest):
    """A well-formed body naming something that does not exist, or that does not fit what else
    it names (a status of another ticket type): the caller's mistake, and one a schema cannot
    rule out, so it has a code of its own."""

    code = "BadReference"


class Unauthorized(ApiError):
    status_code = 401
    code = "Unauthorized"


class Forbidden(ApiError):
    status_code = 403
    code = "Forbidden"


class NotFound(ApiError):
    status_code = 404
    code = "NotFound"


class Conflict(ApiError):
    status_code = 409
    code = "Conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "UnsupportedMediaType"
