"""The gallery's filters, shared by the web page and GET /api/v1/images: one definition of what
"favourites of FLUX dev in 16:9 since March, matching 'fox'" means, and of the cursor scope.

Every filter is an equality on an indexed column of the account's images, or a range on
created_at, so a page is one keyset query on (user, [column,] -created_at, -id) that stops after
`limit + 1` rows; the text search adds `UPPER(prompt) LIKE UPPER('%term%')`, trigram-indexed on
PostgreSQL, and read in bounded windows (see bench/gallery.py for the measured plans).
No OFFSET anywhere."""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import cache, lru_cache
from types import SimpleNamespace

from django.db.models import Count, Max, Min, Q, QuerySet

from generation.models import Image
from likeness.errors import InvalidCursor
from likeness.pagination import (
    after_cursor,
    decode_cursor,
    decode_values,
    encode_cursor,
    encode_values,
    paginate,
    paginate_rows,
)
from likeness.rows import Columns, Records

PAGE_SIZE = 24  # images per page of the web gallery (its infinite scroll)
MAX_QUERY_LENGTH = 200
CURSOR_KIND = "images"
SEARCH_WINDOW = 20_000  # images one page of a text search reads, where it is windowed
# The fields of an image that a gallery card shows (templates/gallery/_cards.jinja): a page of
# the web gallery reads no others.
CARD_FIELDS = ("id", "prompt", "base_model", "aspect_ratio", "seed", "likeness",
               "all_faces_subject", "is_demo", "favorite", "created_at")
# The operators of likeness.rows.where, as the ORM's lookups (ImageFilters.apply).
_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


@dataclass(frozen=True)
class ImageFilters:
    base_model: str | None = None
    model_id: str | None = None  # a personal model
    aspect_ratio: str | None = None
    favorite: bool | None = None
    q: str = ""
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    oldest_first: bool = False
    # Likeness (generation.likeness): images scoring at least this much; and "best likeness
    # first", which lists only scored images (those of personal models).
    min_likeness: int | None = None
    best_likeness: bool = False
    pack: str | None = None  # a pack's slug: the images of its runs

    def conditions(self) -> list[tuple[str, str, object]] | None:
        """The filters that are comparisons of one column with a value, as (field, operator,
        value) (likeness.rows.where); None when nothing can match (a model id that is not
        one). The text search, the pack and "scored only" are not: see apply()."""
        found = []
        if self.model_id:
            try:
                found.append(("personal_model", "=", uuid.UUID(str(self.model_id))))
            except ValueError:
                return None
        for name in ("base_model", "aspect_ratio"):
            if getattr(self, name):
                found.append((name, "=", getattr(self, name)))
        if self.favorite is not None:
            found.append(("favorite", "=", self.favorite))
        if self.since:
            found.append(("created_at", ">=", self.since))
        if self.until:
            found.append(("created_at", "<", self.until))
        if self.min_likeness is not None:
            found.append(("likeness", ">=", self.min_likeness))
        return found

    def apply(self, queryset: QuerySet) -> QuerySet:
        conditions = self.conditions()
        if conditions is None:
            return queryset.none()
        for name, operator, value in conditions:
            queryset = queryset.filter(**{f"{name}__{_LOOKUPS[operator]}": value})
        if self.q.strip():
            queryset = queryset.filter(prompt__icontains=self.q.strip()[:MAX_QUERY_LENGTH])
        if self.pack:
            queryset = queryset.filter(generation__pack_run__pack__slug=self.pack)
        if self.best_likeness:
            queryset = queryset.filter(likeness__isnull=False)
        return queryset

    @property
    def active(self) -> bool:
        return any([self.base_model, self.model_id, self.aspect_ratio, self.favorite is not None,
                    self.q.strip(), self.since, self.until, self.min_likeness is not None,
                    self.best_likeness, self.pack])

    def scope(self, user) -> str:
        """Binds a cursor to this account, these filters and this order."""
        return f"{user.pk}.{_digest(self)}"


@lru_cache(maxsize=1024)  # the same few filters serve most pages: made once per process
def _digest(filters: ImageFilters) -> str:
    # Times in UTC (as the forms and the API give them): equal filters, equal digests, so what
    # the cache holds never depends on which of two equal filters came first.
    data = {k: (_utc(v).isoformat() if isinstance(v, datetime) else v)
            for k, v in asdict(filters).items()}
    data["q"] = filters.q.strip()
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value


def account_images(user) -> QuerySet:
    return Image.objects.filter(user=user)


def newer_than(user, filters: ImageFilters, since) -> list[Image] | None:
    """The account's images (with these filters) newer than the image `since`, newest first,
    at most a page of them: what an open gallery puts on top. None when `since` is not one of
    the account's images (the page showed none, or it was deleted)."""
    try:
        since = uuid.UUID(str(since))
    except ValueError:
        return None
    mine = account_images(user).defer("metadata")
    top = mine.filter(pk=since).values("created_at", "pk").first()
    if top is None:
        return None
    # After the top in oldest-first order: the newer ones, as the index seeks them.
    return list(filters.apply(mine.filter(after_cursor(top["created_at"], top["pk"], True)))
                .order_by("-created_at", "-pk")[:PAGE_SIZE])


def search_is_windowed() -> bool:
    """Whether a text search reads at most SEARCH_WINDOW images per page (see page()). On both
    databases: SQLite has no index for '%term%', and PostgreSQL's choice between its trigram
    index and the ordered walk follows statistics that are poor for LIKE patterns, so a rare
    word could still cost a scan of the whole account (57 ms at 100,000 images, measured by
    bench/gallery.py); the window bounds every page whatever the plan."""
    return True


def page(user, filters: ImageFilters, *, cursor: str | None, limit: int, defer=(),
         records: bool = False):
    """One keyset page of the account's images, without the fields in `defer`. Raises
    likeness.errors.InvalidCursor. With `records`, the page may hold records of the values
    (likeness.rows.Records) instead of Image instances, for answers made from the values alone:
    read them by attribute name only.

    The plain list and its comparison filters, which are nearly every page the gallery and the
    API serve, are read in SQL kept per process (likeness.pagination.paginate_rows: the ORM
    compiling the query was most of a page's time); the text search, the pack filter and the
    likeness order by the ORM."""
    if filters.best_likeness or filters.q.strip() or filters.pack:
        queryset = account_images(user).defer(*defer)
        if filters.best_likeness:
            return _by_likeness(user, filters, queryset, cursor=cursor, limit=limit)
        if filters.q.strip() and search_is_windowed():
            return _windowed_search(user, filters, queryset, cursor=cursor, limit=limit)
        return paginate(filters.apply(queryset), kind=CURSOR_KIND, cursor=cursor, limit=limit,
                        scope=filters.scope(user), oldest_first=filters.oldest_first)
    conditions = filters.conditions()
    if conditions is None:  # nothing matches; a cursor is still checked
        if cursor:
            decode_cursor(CURSOR_KIND, cursor, filters.scope(user))
        return [], None
    return paginate_rows(_columns(frozenset(defer), records),
                         [("user", "=", user.pk), *conditions],
                         kind=CURSOR_KIND, cursor=cursor, limit=limit, scope=filters.scope(user),
                         oldest_first=filters.oldest_first)


@cache
def all_but(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The names of an image's fields other than `fields`: what a page that reads only
    `fields` passes as `defer`."""
    return tuple(f.name for f in Image._meta.concrete_fields
                 if f.name not in fields and f.attname not in fields)


@cache
def _columns(defer: frozenset[str], records: bool) -> Columns:
    return (Records if records else Columns)(Image, defer)


def _windowed_search(user, filters, queryset, *, cursor, limit):
    """A text search that reads at most SEARCH_WINDOW images in the list's order, so a search
    for a word that is almost nowhere costs the same as any page instead of a scan of the whole
    account. When the window ends before `limit` matches are found, the page is short (even
    empty) and its cursor continues after the window; infinite scroll, and API clients that
    follow next_cursor until it is null, simply go on."""
    scope = filters.scope(user)
    order = ("created_at", "pk") if filters.oldest_first else ("-created_at", "-pk")
    others = replace(filters, q="").apply(queryset)
    if cursor:
        created_at, pk = decode_cursor(CURSOR_KIND, cursor, scope)
        others = others.filter(after_cursor(created_at, pk, filters.oldest_first))
    edge_of = Max if filters.oldest_first else Min
    window = others.order_by(*order).values("created_at")[:SEARCH_WINDOW].aggregate(
        size=Count("created_at"), edge=edge_of("created_at"))
    if not window["size"]:
        return [], None
    edge = window["edge"]
    in_window = {"created_at__lte": edge} if filters.oldest_first else {"created_at__gte": edge}
    rows = list(others.filter(prompt__icontains=filters.q.strip()[:MAX_QUERY_LENGTH],
                              **in_window).order_by(*order)[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], encode_cursor(CURSOR_KIND, rows[limit - 1], scope)
    if window["size"] < SEARCH_WINDOW:
        return rows, None  # the window reached the end of the list
    # Every image at the edge's time was read: continue strictly past it.
    past = SimpleNamespace(created_at=edge,
                           pk=uuid.UUID(int=2**128 - 1 if filters.oldest_first else 0))
    return rows, encode_cursor(CURSOR_KIND, past, scope)


def _by_likeness(user, filters, queryset, *, cursor, limit):
    """Best likeness first (then newest): a keyset page on (likeness, created_at, id), which the
    (user, -likeness, -created_at, -id) index serves. A text search here is a plain filter:
    the walk follows the likeness index, not the time window of _windowed_search."""
    scope = filters.scope(user)
    rows = filters.apply(queryset).order_by("-likeness", "-created_at", "-pk")
    if cursor:
        data = decode_values(CURSOR_KIND, cursor, scope)
        try:
            score, created_at = int(data["l"]), datetime.fromisoformat(data["t"])
            pk = uuid.UUID(str(data["id"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidCursor()
        rows = rows.filter(Q(likeness__lt=score) | Q(likeness=score) & after_cursor(created_at,
                                                                                     pk))
    rows = list(rows[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_values(CURSOR_KIND, {
        "l": last.likeness, "t": last.created_at.isoformat(), "id": str(last.pk)}, scope)
