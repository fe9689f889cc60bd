"""The query parameters of every list of the API (keyset pagination: likeness.pagination)."""

from ninja import Field

from api.schemas import TextChecked
from likeness.pagination import DEFAULT_LIMIT, MAX_LIMIT


class PageParams(TextChecked):
    """The query parameters of every list; list filters extend it."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                       description=f"Items per page, 1-{MAX_LIMIT}.")
    cursor: str | None = Field(None, description="next_cursor of the previous page.")
