"""One error shape for every answer of the API: {"error": {"code", "message", "details"}}.

Domain errors (likeness.errors.DomainError) carry their own status and code; the framework's
own refusals are mapped by FRAMEWORK_ERRORS below. Routes raise and never build error
responses themselves."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.renderers import json_response
from likeness.errors import DomainError, error_body

logger = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}
UNREADABLE = ("The request body could not be read; send well-formed multipart/form-data or "
              "JSON.")

# The framework's refusals: exception -> (status, code, message, details from settings).
FRAMEWORK_ERRORS: dict[type, tuple[int, str, str, dict]] = {
    TooManyFilesSent: (413, "too_large", "A request may carry at most {max_files} files; send "
                       "them in several requests.", {"max_files": "DATA_UPLOAD_MAX_NUMBER_FILES"}),
    TooManyFieldsSent: (413, "too_large", "A request may carry at most {max_fields} fields.",
                        {"max_fields": "DATA_UPLOAD_MAX_NUMBER_FIELDS"}),
    RequestDataTooBig: (413, "too_large", "The request body is larger than {limit} bytes "
                        "(files aside).", {"limit": "DATA_UPLOAD_MAX_MEMORY_SIZE"}),
    MultiPartParserError: (400, "bad_request", UNREADABLE, {}),
    SuspiciousOperation: (400, "bad_request", UNREADABLE, {}),
    Http404: (404, "not_found", "Not found.", {}),
}


class ApiError(DomainError):
    """Raised by routes for an answer the domain has no error for."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message, **details)
        self.status = status
        self.code = code


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(Schema):
    """Every 4xx/5xx answer."""

    error: ErrorBody


def error_response(status: int, code: str, message: str, details: dict | None = None):
    return json_response(error_body(code, message, details), status=status)


def _field_name(loc) -> str:
    # ninja prefixes the source ("body", "query", "path") and, for bodies, the parameter name.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_errors(errors) -> list[dict]:
    out = []
    for error in errors:
        field = _field_name(error.get("loc", ()))
        message = error.get("msg", "Invalid value.")
        if error.get("type") == "extra_forbidden":
            message = "Unknown field."
        out.append({"field": field, "message": message, "type": error.get("type", "")})
    return out


def domain_error(request, exc: DomainError):
    return error_response(exc.status, exc.code, exc.message, exc.details)


def validation_error(request, exc: ValidationError):
    errors = _validation_errors(exc.errors)
    first = errors[0] if errors else {"field": "body", "message": "Invalid request."}
    return error_response(422, "validation_error", f"{first['field']}: {first['message']}",
                          {"field": first["field"], "errors": errors})


def framework_error(request, exc):
    cls = next(c for c in type(exc).__mro__ if c in FRAMEWORK_ERRORS)
    status, code, message, limits = FRAMEWORK_ERRORS[cls]
    details = {name: getattr(settings, setting) for name, setting in limits.items()}
    return error_response(status, code, message.format(**details), details)


def unauthenticated(request, exc):
    response = error_response(401, "unauthenticated",
                              "Send a valid API key as 'Authorization: Bearer <key>'.")
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def http_error(request, exc: HttpError):
    return error_response(exc.status_code, CODES_BY_STATUS.get(exc.status_code, "error"),
                          str(exc))


def internal_error(request, exc):
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "internal_error",
                          "Something went wrong on our side; it has been logged.")


def install(api) -> None:
    """Register the handlers on a NinjaAPI. The most specific exception class wins."""
    handlers = {DomainError: domain_error, ValidationError: validation_error,
                AuthenticationError: unauthenticated, HttpError: http_error,
                Exception: internal_error,
                **dict.fromkeys(FRAMEWORK_ERRORS, framework_error)}
    for cls, handler in handlers.items():
        api.add_exception_handler(cls, handler)


# For the OpenAPI description of each operation.
ERRORS_AUTH = {401: ErrorOut}
ERRORS_READ = {401: ErrorOut, 404: ErrorOut}
ERRORS_CHANGE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


# The errors any operation can answer because of what it takes, whatever its route declares:
# document_common_errors adds them to every operation of the OpenAPI schema that lacks them, so
# the schema stays complete as routes are added (schemathesis checks every status against it).
COMMON_ERRORS = {
    400: "bad_request: the body could not be read (malformed JSON or multipart).",
    401: "unauthenticated: no API key, or one that is unknown or revoked.",
    403: "forbidden: a session call without its CSRF token.",
    404: "not_found: no such object of yours (also for another account's objects).",
    413: "too_large: the body is over the upload limits.",
    422: "validation_error: a field or parameter is missing, unknown or out of range.",
}
_SAFE_METHODS = {"get", "head", "options"}


def document_common_errors(schema: dict) -> dict:
    """Add the COMMON_ERRORS an operation can answer to its documented responses, in place."""
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            codes = _common_codes(method, operation)
            responses = operation.setdefault("responses", {})
            present = {int(code) for code in responses if str(code).isdigit()}
            for code in sorted(codes - present):
                responses[code] = {"description": COMMON_ERRORS[code], "content": content}
    return schema


def _common_codes(method: str, operation: dict) -> set[int]:
    parameters = operation.get("parameters") or []
    codes = set()
    if operation.get("requestBody"):
        codes |= {400, 413, 422}
    if any(p.get("in") in ("query", "header") for p in parameters):
        codes.add(422)
    if any(p.get("in") == "path" for p in parameters):
        codes.add(404)
    if operation.get("security"):
        codes.add(401)
        if method not in _SAFE_METHODS:
            codes.add(403)
    return codes
