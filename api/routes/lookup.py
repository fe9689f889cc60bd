"""Finding one object of the caller. Anything else, including another account's object or an id
that is not a UUID, is the same 404, so ids cannot be probed."""

import uuid

from likeness.errors import NotFound


def owned(queryset, user, object_id: str, label: str):
    try:
        pk = uuid.UUID(str(object_id))
    except ValueError:
        raise NotFound(f"No {label} with this id.")
    # No ORDER BY for one row by its key (first() would add one): GET /generations/{id} is
    # what every client polls.
    obj = next(iter(queryset.filter(user=user, pk=pk).order_by()[:1]), None)
    if obj is None:
        raise NotFound(f"No {label} with this id.")
    return obj
