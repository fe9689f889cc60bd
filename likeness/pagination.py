"""Keyset pagination on (created_at, id), newest first, with opaque signed cursors.

No OFFSET: a page costs the same at the start and at the end of a long list, and rows added
while a client walks the list neither repeat nor vanish. The cursor is the last row's
(created_at, id), as JSON, in urlsafe base64, signed per list with django.core.signing, so a
cursor that was edited, or made for another list or another installation, is refused.
Works for any model with a `created_at` and a UUID primary key, ideally indexed as
(user, -created_at, -id).

A list may also bind its cursors to a `scope` (the gallery uses the account, the sort order and
the filters): the scope goes into the signature's salt, so another account's cursor, or one made
for other filters, fails the signature check like an edited one and is answered 400."""

import uuid
from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet

from likeness import rows as sql
from likeness.errors import InvalidCursor

DEFAULT_LIMIT = 24
MAX_LIMIT = 100


def _salt(kind: str, scope: str = "") -> str:
    return f"likeness.api.cursor.{kind}" + (f".{scope}" if scope else "")


def encode_cursor(kind: str, row, scope: str = "") -> str:
    return signing.dumps({"t": row.created_at.isoformat(), "id": str(row.pk)},
                         salt=_salt(kind, scope))


def decode_cursor(kind: str, cursor: str, scope: str = "") -> tuple[datetime, uuid.UUID]:
    try:
        data = signing.loads(cursor, salt=_salt(kind, scope))
        created_at = datetime.fromisoformat(data["t"])
        pk = uuid.UUID(str(data["id"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidCursor()
    if created_at.tzinfo is None:
        raise InvalidCursor()
    return created_at, pk


def encode_values(kind: str, values: dict, scope: str = "") -> str:
    """A cursor holding other sort keys than (created_at, id) (e.g. the gallery's likeness
    order), signed the same way."""
    return signing.dumps(values, salt=_salt(kind, scope))


def decode_values(kind: str, cursor: str, scope: str = "") -> dict:
    try:
        data = signing.loads(cursor, salt=_salt(kind, scope))
    except signing.BadSignature:
        raise InvalidCursor()
    if not isinstance(data, dict):
        raise InvalidCursor()
    return data


def after_cursor(created_at: datetime, pk: uuid.UUID, oldest_first: bool = False) -> Q:
    """The rows after (created_at, pk) in the list's order. Written as a range on created_at
    plus the tie-break, so SQLite and PostgreSQL both seek into the (user, created_at, id) index
    instead of walking it from the start (measured by bench/gallery.py)."""
    if oldest_first:
        return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | Q(pk__gt=pk))
    return Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(pk__lt=pk))


def paginate(queryset: QuerySet, *, kind: str, cursor: str | None, limit: int,
             scope: str = "", oldest_first: bool = False):
    """One page of `queryset`, newest first (or oldest first). Returns (rows, next_cursor or
    None). Raises InvalidCursor for a cursor not made by this list in this scope."""
    if oldest_first:
        queryset = queryset.order_by("created_at", "pk")
    else:
        queryset = queryset.order_by("-created_at", "-pk")
    if cursor:
        created_at, pk = decode_cursor(kind, cursor, scope)
        queryset = queryset.filter(after_cursor(created_at, pk, oldest_first))
    rows = list(queryset[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(kind, rows[-1], scope)
    return rows, None


def paginate_rows(columns: sql.Columns, conditions, *, kind: str, cursor: str | None,
                  limit: int, scope: str = "", oldest_first: bool = False):
    """paginate() of the rows of `columns.model` matching `conditions` (ANDed (field, operator,
    value), likeness.rows.where), in SQL kept per process instead of compiled per request: the
    same rows, in the same order, with the same values, and the same cursors, as instances
    (likeness.rows.Columns) or records (likeness.rows.Records). For the lists read on every
    request of a busy page (the gallery)."""
    model = columns.model
    connection = sql.connection_for(model)
    conditions = list(conditions)
    if cursor:
        created_at, pk = decode_cursor(kind, cursor, scope)
        conditions.append(("created_at", ">=" if oldest_first else "<=", created_at))
    clause, params = sql.where(connection, model, conditions)
    created, key = (sql.column(connection, model, "created_at"),
                    sql.column(connection, model, "pk"))
    if cursor:  # after_cursor(): a range on created_at, then the tie-break on the key
        after = ">" if oldest_first else "<"
        clause += f" AND ({created} {after} %s OR {key} {after} %s)"
        params += [sql.prepared(connection, model, "created_at", created_at),
                   sql.prepared(connection, model, "pk", pk)]
    direction = "ASC" if oldest_first else "DESC"
    # Identifiers from the model's metadata and fixed words only: every value is a parameter.
    found = sql.fetch(connection, f"{columns.select(connection)} WHERE {clause} "  # noqa: S608
                                  f"ORDER BY {created} {direction}, {key} {direction} LIMIT %s",
                      params + [limit + 1])
    page = [columns.build(connection, values) for values in found[:limit]]
    if len(found) > limit:
        return page, encode_cursor(kind, page[-1], scope)
    return page, None
