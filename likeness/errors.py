"""The errors of the product, in one hierarchy.

`DomainError` is what a customer did or asked that cannot be done: it carries the API's `code`,
its HTTP `status` and a `message` for a person, so the API answers every one of them from one
table (api.errors) and the web pages show the message next to the right field (web.forms).
`ProviderError` is an outside service failing (an AI provider, Stripe, Cloudflare, the Hub): it
says whether trying again later can help (`transient`) and how long the service asked us to
wait (`retry_after`); the jobs' retry policy decides what to do with it."""

from django.contrib import messages


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError, ValueError):
    """Bad input, with the field it concerns and a sentence for a person."""

    status = 422
    code = "validation_error"

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field,
                         errors=[{"field": field, "message": message, "type": "invalid"}])
        self.field = field


class LimitReached(DomainError):
    """A plan or a model is full."""

    status = 409
    code = "limit_reached"


class Conflict(DomainError):
    """The object is not in a state that allows this."""

    status = 409
    code = "conflict"


class NotFound(DomainError, LookupError):
    """No such object of the caller's (another account's objects included)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **details):
        super().__init__(message, **details)


class InsufficientCredits(DomainError):
    status = 402
    code = "insufficient_credits"

    def __init__(self, needed: int, balance: int):
        super().__init__(f"This needs {needed} credits and your balance is {balance}.",
                         needed=needed, balance=balance)
        self.needed = needed
        self.balance = balance


class PromptRefused(InvalidInput):
    """The prompt policy refused the prompt (or the negative prompt): what it asks for, never
    its words, for a person; the categories for a program."""

    code = "prompt_refused"

    def __init__(self, field: str, message: str, categories: list[str]):
        super().__init__(field, message)
        self.details["categories"] = list(categories)
        self.categories = list(categories)


class ConsentRequired(DomainError):
    """A person's model trains only with a valid consent record (studio.consent)."""

    status = 409
    code = "consent_required"


class ConsentMismatch(InvalidInput):
    """The consent selfie does not show the person in the training photos (or no face)."""

    code = "consent_mismatch"

    def __init__(self, message: str, **details):
        super().__init__("selfie", message)
        self.details.update(details)


class Suspended(DomainError):
    """Staff suspended this model (or account) after a report: it cannot be used."""

    status = 403
    code = "suspended"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class InvalidCursor(DomainError):
    code = "invalid_cursor"

    def __init__(self):
        super().__init__("This cursor is not valid for this list; start again without it.")


class NotConfigured(DomainError):
    """A part of the product this installation has not configured (e.g. billing)."""

    status = 503
    code = "not_configured"


class PrivateModeRefused(NotConfigured, LookupError):
    """PRIVATE_MODE is on and this would send a photo, a prompt or what is made of them to a
    service outside the installation: refused, never sent. Final (`transient` False): a job
    that meets it fails and refunds; a lookup of providers (LookupError) fails the same way."""

    code = "private_mode"
    transient = False
    retry_after = None


class ProviderError(Exception):
    """An outside service failed. `transient` errors (timeouts, 5xx, 429) are worth another try
    after a backoff; permanent ones (invalid request, bad key, refused content) are final."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None,
                 code: str = "provider_error", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.code = code
        self.status = status


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    """The shape of every error the API (and every JSON endpoint) answers."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def show(request, exc: DomainError, form=None) -> None:
    """A refusal on a page: on the form, next to the field it names when the form has it, or
    else as a message at the top of the next page."""
    if form is not None:
        field = getattr(exc, "field", None)
        form.add_error(field if field in form.fields else None, exc.message)
    else:
        messages.error(request, exc.message)

