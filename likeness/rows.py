"""Hot reads in SQL written once per process, instead of compiled by the ORM on every request.

The ORM builds and compiles a queryset's SQL anew each time it runs. For the reads behind every
gallery request (its API key, its page of images) building and compiling took more time than the
database did (bench/gallery_server.py --profile). Here the SQL is made from the model's own
metadata (its table and columns, quoted by the backend) and kept per process; the parameters
are prepared by the fields as the ORM prepares a lookup's (get_db_prep_value); the rows come
back through the backend's and the fields' converters, the ones the ORM applies, into model
instances (Model.from_db), or into plain records of the same values (Records). So a row read
here is the ORM's row: tests/likeness/test_rows.py holds them to each other on SQLite and
PostgreSQL.

Only what these reads need: ANDed comparisons of a column with a value, and the selected columns
of a model (all its concrete fields but those deferred). Anything else is the ORM's."""

import weakref
from collections import namedtuple
from functools import cache

from django.db import connections, router
from django.db.models import Model

OPERATORS = frozenset({"=", "<", "<=", ">", ">="})


@cache
def _fields(model: type[Model], defer: frozenset[str]) -> tuple:
    return tuple(f for f in model._meta.concrete_fields
                 if f.name not in defer and f.attname not in defer)


class Columns:
    """The columns of `model` that one SELECT reads (all its concrete fields but `defer`), and
    the instances made of them."""

    def __init__(self, model: type[Model], defer=()):
        self.model = model
        self.fields = _fields(model, frozenset(defer))
        self.names = [f.attname for f in self.fields]
        self.table = model._meta.db_table
        self._select_lists: dict[str, str] = {}  # per database vendor (its quoting)
        self._converters = weakref.WeakKeyDictionary()  # per connection (each thread has its own)

    def __len__(self) -> int:
        return len(self.fields)

    def select_list(self, connection) -> str:
        """The quoted "table"."column" of each field, comma-separated."""
        found = self._select_lists.get(connection.vendor)
        if found is None:
            found = ", ".join(_quoted(connection, self.table, f.column) for f in self.fields)
            self._select_lists[connection.vendor] = found
        return found

    def select(self, connection) -> str:
        """SELECT (the columns) FROM (the table)."""
        return (f"SELECT {self.select_list(connection)} "  # noqa: S608 (identifiers only)
                f"FROM {connection.ops.quote_name(self.table)}")

    def converters(self, connection) -> list[tuple[int, list, object]]:
        """(position, converters, column) of each field that has any, as the ORM's compiler
        finds them (SQLCompiler.get_converters)."""
        found = self._converters.get(connection)
        if found is None:
            found = []
            for n, field in enumerate(self.fields):
                column = field.get_col(self.table)
                chain = (connection.ops.get_db_converters(column)
                         + column.get_db_converters(connection))
                if chain:
                    found.append((n, chain, column))
            self._converters[connection] = found
        return found

    def converted(self, connection, values) -> list:
        """A row's values as the ORM gives them to a model (its converters applied)."""
        values = list(values)
        for n, chain, column in self.converters(connection):
            value = values[n]
            for convert in chain:
                value = convert(value, column, connection)
            values[n] = value
        return values

    def instance(self, connection, values) -> Model:
        return self.model.from_db(connection.alias, self.names, self.converted(connection,
                                                                               values))

    build = instance  # what a row becomes in paginate_rows()


class Records(Columns):
    """Columns whose rows become records instead of model instances: named tuples of the same
    converted values, read by attribute name (`id`, `generation_id`, and `pk`), with none of a
    model instance's set-up, which was about a third of a gallery API page's time (bench/
    gallery_server.py --profile). For answers made straight from the values; a record has no
    methods, no related objects and no deferred loading."""

    def __init__(self, model: type[Model], defer=()):
        super().__init__(model, defer)
        self.record = _record_type(model, tuple(self.names))

    def build(self, connection, values):
        return self.record._make(self.converted(connection, values))


@cache
def _record_type(model: type[Model], names: tuple[str, ...]) -> type:
    record = namedtuple(f"{model.__name__}Record", names)
    pk = model._meta.pk.attname
    if pk not in names:
        raise ValueError("a record always holds its primary key")
    record.pk = property(lambda self: getattr(self, pk))
    return record


_QUOTED: dict[tuple[str, str, str], str] = {}  # (vendor, table, column) -> "table"."column"


def _quoted(connection, table: str, name: str) -> str:
    key = (connection.vendor, table, name)
    found = _QUOTED.get(key)
    if found is None:
        quote = connection.ops.quote_name
        found = _QUOTED[key] = f"{quote(table)}.{quote(name)}"
    return found


def _field(model: type[Model], name: str):
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def column(connection, model: type[Model], name: str) -> str:
    """The quoted "table"."column" of a field (by name or attname, or "pk")."""
    return _quoted(connection, model._meta.db_table, _field(model, name).column)


def prepared(connection, model: type[Model], name: str, value):
    """`value` as a parameter compared with the field `name`, prepared as the ORM prepares a
    lookup's value (a foreign key takes the related row's primary key)."""
    return _field(model, name).get_db_prep_value(value, connection, prepared=False)


def where(connection, model: type[Model], conditions) -> tuple[str, list]:
    """ANDed (field name, operator, value) comparisons, as SQL and parameters. A value is never
    None here: "is null" is not a comparison."""
    if not conditions:
        raise ValueError("a read of every row is the ORM's")
    clauses, params = [], []
    for name, operator, value in conditions:
        if operator not in OPERATORS or value is None:
            raise ValueError(f"not a comparison: {name} {operator} {value!r}")
        clauses.append(f"{column(connection, model, name)} {operator} %s")
        params.append(prepared(connection, model, name, value))
    return " AND ".join(clauses), params


def connection_for(model: type[Model]):
    return connections[router.db_for_read(model)]


def fetch(connection, sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
