"""Exception handlers: every failure answers with the contract's Error body, never a traceback."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from app.api.responses import error_response_for_path
from app.core.errors import ApiError, BadRequest
from app.core.logging import get_logger
from app.core.wire import describe_validation_error

log = get_logger(__name__)

HTTP_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationError",
}


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response_for_path(request.url.path, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError | RequestValidationError)
    return error_response_for_path(request.url.path, BadRequest(describe_validation_error(exc)))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = ApiError(str(exc.detail), code=HTTP_CODES.get(exc.status_code, "Error"))
    error.status_code = exc.status_code
    response = error_response_for_path(request.url.path, error)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: the router answers 405 with the methods of
    the first route whose path matches, though several routes (GET, PUT, DELETE) share a path."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        path_format = route.path_format
        if path_format and route.methods and compile_path(path_format)[0].fullmatch(path):
            methods |= route.methods
    return sorted(methods)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database went away mid-request (restart, failover, cut connection): nothing was
    committed, so the caller may simply try again."""
    log.warning("http.database_unavailable", path=request.url.path, error=type(exc).__name__)
    error = ApiError(
        "The database is briefly unavailable; nothing was changed. Try again.",
        code="ServiceUnavailable",
    )
    error.status_code = 503
    response = error_response_for_path(request.url.path, error)
    response.headers["Retry-After"] = "1"
    return response


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return await _database_unavailable(request, exc)
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("http.unhandled_error", path=request.url.path)
    error = ApiError("An internal error occurred; it has been logged.", code="InternalError")
    error.status_code = 500
    return error_response_for_path(request.url.path, error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
