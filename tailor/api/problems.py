"""Every error the API sends is RFC 9457 ``application/problem+json``, never a traceback.

The package's errors (:mod:`tailor.errors`) already say what went wrong in one line a
person can act on; this module gives each an HTTP status and a stable ``code``. ``type`` is
``about:blank`` (RFC 9457 §4.2.1), so ``title`` is the status phrase and clients switch on
``status`` and ``code``. Validation errors list the fields (never the values sent, which may
be a hire's background); a bug is a 500 with no detail, its traceback in the server log.

:func:`install` registers the handlers and rewrites the OpenAPI document so every error
response is documented as a :class:`Problem` (Schemathesis checks that they match).
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tailor.errors import (
    BadInput,
    Conflict,
    IllegalTransition,
    IndexUnavailable,
    ModelUnavailable,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    TailorError,
)
from tailor.review.tokens import InvalidToken

PROBLEM_JSON: Final = "application/problem+json"
log = logging.getLogger("tailor.api")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field path.")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details. ``code`` is tailor's stable name for the kind of error."""

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(default=None, description="The request path.")
    code: str
    errors: list[FieldError] | None = Field(default=None, description="The invalid fields (422 only).")
    retry_after: int | None = Field(default=None, description="Seconds to wait (429 and some 503).")


class PreconditionRequired(TailorError):
    """A change was sent without ``If-Match`` (428)."""


class RateLimited(TailorError):
    """Too many requests for this token (429)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after_s))


# Most specific first: InvalidToken is a PermissionDenied, but means "who are you?" (401).
_STATUS: Final[tuple[tuple[type[TailorError], int, str], ...]] = (
    (InvalidToken, 401, "unauthorized"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 412, "stale_revision"),
    (PreconditionRequired, 428, "if_match_required"),
    (IllegalTransition, 409, "illegal_transition"),
    (RateLimited, 429, "rate_limited"),
    (StorageUnavailable, 503, "storage_unavailable"),
    (IndexUnavailable, 503, "index_unavailable"),
    (ModelUnavailable, 503, "model_unavailable"),
    (BadInput, 400, "bad_input"),
)
_HTTP_CODES: Final = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def problem_response(
    status: int,
    code: str,
    detail: str,
    request: Request | None = None,
    *,
    errors: list[FieldError] | None = None,
    retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        code=code,
        errors=errors,
        retry_after=retry_after,
    )
    extra = dict(headers or {})
    if retry_after is not None:
        extra["Retry-After"] = str(retry_after)
    if status == 401:
        extra["WWW-Authenticate"] = 'Bearer realm="tailor"'
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=extra)


def status_of(exc: TailorError) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 400, "bad_input"


def _field_errors(raw: list[Any]) -> list[FieldError]:
    # Only where and why: the value itself may be personal data and is never echoed.
    return [
        FieldError(
            loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            msg=str(e.get("msg", "")),
            type=str(e.get("type", "")),
        )
        for e in raw[:50]
    ]


async def _tailor_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TailorError)
    status, code = status_of(exc)
    retry = exc.retry_after if isinstance(exc, RateLimited) else (5 if status == 503 else None)
    return problem_response(status, code, exc.message, request, retry_after=retry)


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(list(exc.errors()))
    first = errors[0] if errors else None
    detail = f"{'.'.join(str(p) for p in first.loc)}: {first.msg}" if first else "the request is not valid"
    return problem_response(422, "validation_error", detail, request, errors=errors)


async def _model_validation(request: Request, exc: Exception) -> JSONResponse:
    """A body that parsed but does not make a valid value (a patched plan): 422 with the fields."""
    assert isinstance(exc, ValidationError)
    errors = _field_errors([{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()])
    first = errors[0]
    return problem_response(
        422, "validation_error", f"{'.'.join(map(str, first.loc))}: {first.msg}", request, errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"))
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
    return problem_response(exc.status_code, code, detail, request, headers=dict(exc.headers or {}))


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal_error", "an unexpected error; it was logged on the server", request)


# --------------------------------------------------------------------------- OpenAPI
COMMON_ERRORS: Final[dict[int, str]] = {
    400: "Bad input: the message says what to change.",
    401: "No token, or the token is unknown, expired or revoked.",
    403: "The token's user may not do this (the role matrix and four-eyes rule).",
    404: "Not found.",
    413: "The request body is over the size limit.",
    422: "The request does not match the schema.",
    429: "Too many requests for this token; wait Retry-After seconds.",
    500: "A bug; logged on the server.",
    503: "The database (or the index, or the model) is unavailable right now.",
}


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(str(status), {"description": description})
            for status, response in responses.items():
                if status != "default" and int(status) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": ref}}
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, sub in Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}).items():
        schemas[name] = sub
    schemas["Problem"] = {
        k: v for k, v in Problem.model_json_schema(ref_template="#/components/schemas/{model}").items() if k != "$defs"
    }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    """Problem+json for every error, and an OpenAPI document that says so."""
    app.add_exception_handler(TailorError, _tailor_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ValidationError, _model_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _bug)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = _document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
