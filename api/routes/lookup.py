"""Finding one object of the caller. Anything else, including another account's object or an id
that is not a UUID, is the same 404, so ids cannot be probed."""

import uuid

from django.core.exceptions import ObjectDoesNotExist

from likeness.errors import NotFound


def owned(queryset, user, object_id: str, label: str):
    try:
        pk = uuid.UUID(str(object_id))
    except ValueError:
        raise NotFound(f"No {label} with this id.")
    try:  # get(): one row by its key, without the ORDER BY first() adds
        return queryset.get(user=user, pk=pk)
    except ObjectDoesNotExist:
        raise NotFound(f"No {label} with this id.")
