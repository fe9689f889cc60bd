"""Domain errors shared by the web pages and the API, each mapping to one API error code."""


class InvalidInput(ValueError):
    """Bad input, with the field it concerns and a sentence for a person (422)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class LimitReached(Exception):
    """A plan or a model is full (409 limit_reached)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class Conflict(Exception):
    """The object is not in a state that allows this (409 conflict)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details
