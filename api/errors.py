"""One error shape for every answer of the API: {"error": {"code", "message", "details"}}.

Domain exceptions (likeness.errors, credits' InsufficientCredits) map to one code each here, so
routes raise them and never build error responses themselves."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from credits.actions import InsufficientCredits
from likeness.errors import Conflict, InvalidInput, LimitReached

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


class ApiError(Exception):
    """Raised by routes for an answer other than success."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class NotFound(ApiError):
    def __init__(self, message: str = "Not found."):
        super().__init__(404, "not_found", message)


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(Schema):
    """Every 4xx/5xx answer."""

    error: ErrorBody


def error_response(status: int, code: str, message: str, details: dict | None = None):
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": details or {}}}, status=status
    )


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


def install(api) -> None:
    """Register the handlers on a NinjaAPI. The most specific exception class wins."""

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        errors = _validation_errors(exc.errors)
        first = errors[0] if errors else {"field": "body", "message": "Invalid request."}
        return error_response(422, "validation_error", f"{first['field']}: {first['message']}",
                              {"field": first["field"], "errors": errors})

    @api.exception_handler(InvalidInput)
    def invalid_input(request, exc: InvalidInput):
        return error_response(422, "validation_error", exc.message, {
            "field": exc.field,
            "errors": [{"field": exc.field, "message": exc.message, "type": "invalid"}],
        })

    @api.exception_handler(InsufficientCredits)
    def insufficient_credits(request, exc: InsufficientCredits):
        return error_response(402, "insufficient_credits", str(exc),
                              {"needed": exc.needed, "balance": exc.balance})

    @api.exception_handler(LimitReached)
    def limit_reached(request, exc: LimitReached):
        return error_response(409, "limit_reached", exc.message, exc.details)

    @api.exception_handler(Conflict)
    def conflict(request, exc: Conflict):
        return error_response(409, "conflict", exc.message, exc.details)

    # Django refuses a body over its DATA_UPLOAD_MAX_* limits while parsing it; unhandled,
    # these would be a logged 500.
    @api.exception_handler(RequestDataTooBig)
    @api.exception_handler(TooManyFilesSent)
    @api.exception_handler(TooManyFieldsSent)
    def too_large(request, exc):
        if isinstance(exc, TooManyFilesSent):
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
            return error_response(413, "too_large", f"A request may carry at most {limit} files; "
                                  "send them in several requests.", {"max_files": limit})
        if isinstance(exc, TooManyFieldsSent):
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            return error_response(413, "too_large", f"A request may carry at most {limit} "
                                  "fields.", {"max_fields": limit})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(413, "too_large", f"The request body is larger than {limit} bytes "
                              "(files aside).", {"limit": limit})

    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(SuspiciousOperation)
    def bad_request(request, exc):
        return error_response(400, "bad_request",
                              "The request body could not be read; send well-formed "
                              "multipart/form-data or JSON.")

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = error_response(401, "unauthenticated",
                                  "Send a valid API key as 'Authorization: Bearer <key>'.")
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = CODES_BY_STATUS.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(404, "not_found", "Not found.")

    @api.exception_handler(Exception)
    def internal_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        return error_response(500, "internal_error",
                              "Something went wrong on our side; it has been logged.")


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
            responses = operation.setdefault("responses", {})
            present = {int(code) for code in responses if str(code).isdigit()}
            for code in sorted(codes - present):
                responses[code] = {"description": COMMON_ERRORS[code], "content": content}
    return schema
