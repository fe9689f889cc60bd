"""Keyset pagination on (created_at, id), newest first, with opaque signed cursors.

No OFFSET: a page costs the same at the start and at the end of a long list, and rows added
while a client walks the list neither repeat nor vanish. The cursor is the last row's
(created_at, id), as JSON, in urlsafe base64, signed per list with django.core.signing, so a
cursor that was edited, or made for another list or another installation, is refused.
Works for any model with a `created_at` and a UUID primary key, ideally indexed as
(user, -created_at, -id)."""

import uuid
from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet
from ninja import Field, Schema

from api.errors import ApiError

DEFAULT_LIMIT = 24
MAX_LIMIT = 100


class PageParams(Schema):
    """The query parameters of every list; list filters extend it."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                       description=f"Items per page, 1-{MAX_LIMIT}.")
    cursor: str | None = Field(None, description="next_cursor of the previous page.")


def _salt(kind: str) -> str:
    return f"likeness.api.cursor.{kind}"


def encode_cursor(kind: str, row) -> str:
    return signing.dumps({"t": row.created_at.isoformat(), "id": str(row.pk)}, salt=_salt(kind))


def decode_cursor(kind: str, cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        data = signing.loads(cursor, salt=_salt(kind))
        created_at = datetime.fromisoformat(data["t"])
        pk = uuid.UUID(str(data["id"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ApiError(400, "invalid_cursor",
                       "This cursor is not valid for this list; start again without it.")
    if created_at.tzinfo is None:
        raise ApiError(400, "invalid_cursor", "This cursor is not valid for this list.")
    return created_at, pk


def paginate(queryset: QuerySet, *, kind: str, cursor: str | None, limit: int):
    """One page of `queryset`, newest first. Returns (rows, next_cursor or None)."""
    queryset = queryset.order_by("-created_at", "-pk")
    if cursor:
        created_at, pk = decode_cursor(kind, cursor)
        queryset = queryset.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
        )
    rows = list(queryset[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(kind, rows[-1])
    return rows, None
