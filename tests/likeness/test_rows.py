"""The gallery's page in SQL kept per process (likeness.pagination.paginate_rows) is the ORM's
page: the same images in the same order, with the same values, and the same cursors, for every
comparison filter, both orders, ties on created_at, every cursor of a walk, and deferred fields;
on SQLite and on PostgreSQL (scripts/test runs both)."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery.filters import CURSOR_KIND, ImageFilters, account_images, page
from generation.models import Image
from likeness import rows
from likeness.errors import InvalidCursor
from likeness.pagination import decode_cursor, paginate, paginate_rows
from tests.factories import make_generation, make_personal_model

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def shelf(alice, bob):
    """60 images of alice with varied columns (some sharing one created_at, to the
    microsecond, so the tie-break on the key decides), and 5 of bob's."""
    rng = random.Random(11)
    model = make_personal_model(alice, name="Zed")
    generation = make_generation(alice, num_images=60)
    Image.objects.bulk_create([Image(
        user=alice, generation=generation, index=n, content_type="image/png", width=64,
        height=48, prompt=f"picture {n}", base_model=rng.choice(["flux-schnell", "flux-dev"]),
        aspect_ratio=rng.choice(["1:1", "16:9"]), seed=n, provider="demo",
        is_demo=n % 2 == 0, favorite=rng.random() < 0.4,
        likeness=rng.choice([None, 30, 55, 80]), face_count=rng.choice([None, 1, 2]),
        all_faces_subject=rng.random() < 0.5,
        personal_model=model if n % 3 == 0 else None, metadata={"seed": n, "n": [n, "x"]},
        file=f"images/t/{n}.png", thumbnail=f"images/t/{n}.webp",
    ) for n in range(60)])
    for n, image in enumerate(Image.objects.filter(generation=generation).order_by("index")):
        # Every fourth image shares its time with the one before it.
        at = START + timedelta(minutes=n - n % 4 // 3, microseconds=137 * (n % 5))
        Image.objects.filter(pk=image.pk).update(created_at=at)
    other = make_generation(bob, num_images=5)
    Image.objects.bulk_create([Image(
        user=bob, generation=other, index=n, content_type="image/png", width=64, height=48,
        prompt="bob's", base_model="flux-schnell", aspect_ratio="1:1", seed=n,
        provider="demo", file=f"images/b/{n}.png", thumbnail=f"images/b/{n}.webp",
    ) for n in range(5)])
    return model


def values(image: Image, deferred=()) -> dict:
    return {f.attname: getattr(image, f.attname) for f in Image._meta.concrete_fields
            if f.name not in deferred and f.attname not in deferred}


def orm_walk(user, filters, limit, defer=()):
    """Every page of the ORM's paginate(), the cursors followed."""
    queryset = filters.apply(account_images(user).defer(*defer))
    pages, cursor = [], None
    while True:
        found, cursor = paginate(queryset, kind=CURSOR_KIND, cursor=cursor, limit=limit,
                                 scope=filters.scope(user), oldest_first=filters.oldest_first)
        pages.append((found, cursor))
        if cursor is None:
            return pages


def opened(cursor, filters, user):
    """What a cursor holds (its signature carries the time it was made)."""
    return cursor and decode_cursor(CURSOR_KIND, cursor, filters.scope(user))


FILTERS = [
    ImageFilters(),
    ImageFilters(oldest_first=True),
    ImageFilters(favorite=True),
    ImageFilters(favorite=False, oldest_first=True),
    ImageFilters(base_model="flux-dev", aspect_ratio="16:9"),
    ImageFilters(min_likeness=50),
    ImageFilters(min_likeness=0, oldest_first=True),
    ImageFilters(since=START + timedelta(minutes=10), until=START + timedelta(minutes=40)),
    ImageFilters(since=START + timedelta(minutes=7, microseconds=274), oldest_first=True),
]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
@pytest.mark.parametrize("limit", [1, 7, 100])
def test_every_page_of_a_walk_is_the_orms(shelf, alice, filters, limit):
    for defer in [(), ("metadata",)]:
        expected = orm_walk(alice, filters, limit, defer)
        cursor = None
        for want, want_cursor in expected:
            got, cursor = paginate_rows(rows.Columns(Image, defer),
                                        [("user", "=", alice.pk), *filters.conditions()],
                                        kind=CURSOR_KIND, cursor=cursor, limit=limit,
                                        scope=filters.scope(alice),
                                        oldest_first=filters.oldest_first)
            assert [i.pk for i in got] == [i.pk for i in want]
            assert [values(i, defer) for i in got] == [values(i, defer) for i in want]
            assert opened(cursor, filters, alice) == opened(want_cursor, filters, alice)
            assert all(set(i.get_deferred_fields()) == set(defer) for i in got)
        assert sum(len(found) for found, _ in expected) == \
            filters.apply(account_images(alice)).count()


def test_a_model_filter_and_a_model_id_that_is_none(shelf, alice):
    got, _ = page(alice, ImageFilters(model_id=str(shelf.pk)), cursor=None, limit=100)
    assert got and {i.personal_model_id for i in got} == {shelf.pk}
    assert [i.pk for i in got] == [i.pk for i in orm_walk(
        alice, ImageFilters(model_id=str(shelf.pk)), 100)[0][0]]
    assert page(alice, ImageFilters(model_id="not-a-uuid"), cursor=None, limit=10) == ([], None)
    assert page(alice, ImageFilters(model_id=str(uuid.uuid4())), cursor=None,
                limit=10) == ([], None)


def test_the_page_is_one_query_of_the_accounts_rows_and_keeps_its_cursor_scope(shelf, alice,
                                                                                 bob):
    with CaptureQueriesContext(connection) as queries:
        first, cursor = page(alice, ImageFilters(), cursor=None, limit=24)
    assert len(queries.captured_queries) == 1
    assert len(first) == 24 and {i.user_id for i in first} == {alice.pk}
    with pytest.raises(InvalidCursor):  # bob cannot walk on with alice's cursor
        page(bob, ImageFilters(), cursor=cursor, limit=24)
    with pytest.raises(InvalidCursor):  # nor alice with other filters
        page(alice, ImageFilters(favorite=True), cursor=cursor, limit=24)
    bobs, none = page(bob, ImageFilters(), cursor=None, limit=24)
    assert len(bobs) == 5 and none is None


def test_only_comparisons_are_written_by_hand():
    with pytest.raises(ValueError):
        rows.where(connection, Image, [("prompt", "LIKE", "%x%")])
    with pytest.raises(ValueError):
        rows.where(connection, Image, [("likeness", "=", None)])
    with pytest.raises(ValueError):
        rows.where(connection, Image, [])


def test_records_hold_the_instances_values_and_nothing_more(shelf, alice):
    """Records (the API's page) are the same rows as instances, with the same converted
    values of the columns read, read by attribute name, and the same cursors."""
    defer = ("file", "thumbnail", "metadata", "user")
    for filters in FILTERS:
        cursor = want_cursor = None
        while True:
            want, want_cursor = paginate_rows(
                rows.Columns(Image, defer), [("user", "=", alice.pk), *filters.conditions()],
                kind=CURSOR_KIND, cursor=want_cursor, limit=7, scope=filters.scope(alice),
                oldest_first=filters.oldest_first)
            got, cursor = page(alice, filters, cursor=cursor, limit=7, defer=defer, records=True)
            assert [r.pk for r in got] == [i.pk for i in want]
            assert [r._asdict() for r in got] == [values(i, defer) for i in want]
            assert opened(cursor, filters, alice) == opened(want_cursor, filters, alice)
            if cursor is None:
                assert want_cursor is None
                break
    record = got[0] if got else page(alice, ImageFilters(), cursor=None, limit=1,
                                     records=True)[0][0]
    assert not isinstance(record, Image) and isinstance(record.id, uuid.UUID)
    with pytest.raises(AttributeError):
        record.metadata  # noqa: B018 (a deferred field is not there to load)


def test_a_record_needs_its_key():
    with pytest.raises(ValueError):
        rows.Records(Image, ("id",))
