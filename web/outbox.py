"""The demo outbox (SHOW_OUTBOX): the mail this installation would have sent, kept as .eml files
under EMAIL_OUTBOX_DIR by web.mail.OutboxBackend, and who may read which.

A mail is a key to an account (a password-reset link signs anyone in), so the outbox is a
mailbox, not a notice board. Staff (with two-factor authentication where it is required) read
every message. A signed-in person reads the mail to their own addresses, never to an address
another account holds. A visitor whose sign-up in this browser waits for its e-mail
confirmation reads the mail to the address just signed up with, so that the demo's sign-up can
be finished without a mail server. Anyone else reads nothing."""

import re
from email import policy
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from allauth.account.internal.stagekit import unstash_login
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import Q
from django.http import Http404

from accounts.models import User
from accounts.staff import is_cleared_staff

NAME = re.compile(r"^[0-9]+-[0-9a-f]{8}\.eml$")
LIMIT = 100  # messages listed, newest first

ALL = None  # readable_addresses() for staff: every message


def _folder() -> Path:
    if not settings.SHOW_OUTBOX:
        raise Http404("The outbox is off.")
    return Path(settings.EMAIL_OUTBOX_DIR)


def _pending_signup(request):
    """The account this browser has just signed up and not yet confirmed, or None."""
    login = unstash_login(request, peek=True)  # allauth's own record of the sign-up under way
    if login is None or not login.signup or login.user is None:
        return None
    if EmailAddress.objects.filter(user=login.user, verified=True).exists():
        return None
    return login.user


def _addresses_of(user) -> set[str]:
    mine = {user.email.lower(), *(e.lower() for e in EmailAddress.objects.filter(
        user=user).values_list("email", flat=True))}
    # An address also claimed by another account (added, never confirmed, to read its mail)
    # stays that account's.
    others = User.objects.exclude(pk=user.pk).filter(email__in=mine).values_list("email",
                                                                                   flat=True)
    held = EmailAddress.objects.exclude(user=user).filter(
        Q(email__in=mine) & (Q(verified=True) | Q(primary=True))).values_list("email", flat=True)
    return mine - {e.lower() for e in (*others, *held)}


def readable_addresses(request) -> set[str] | None:
    """The recipients whose mail this request may read: ALL for staff, else a set (empty for
    a visitor who is neither signed in nor finishing a sign-up). Http404 while the outbox is
    off."""
    _folder()
    user = request.user
    if user.is_authenticated:
        return ALL if is_cleared_staff(user) else _addresses_of(user)
    pending = _pending_signup(request)
    return _addresses_of(pending) if pending is not None else set()


def _recipients(headers) -> set[str]:
    fields = [str(v) for name in ("to", "cc") for v in headers.get_all(name, [])]
    return {address.lower() for _, address in getaddresses(fields) if address}


def _visible(path: Path, readable: set[str] | None) -> bool:
    if readable is ALL:
        return True
    with path.open("rb") as handle:
        headers = BytesHeaderParser(policy=policy.default).parse(handle)
    return bool(_recipients(headers) & readable)


def _read(path: Path) -> dict:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    try:
        sent = parsedate_to_datetime(message["date"]) if message["date"] else None
    except (TypeError, ValueError):
        sent = None
    body = message.get_body(preferencelist=("plain",))
    return {
        "name": path.name,
        "subject": str(message["subject"] or "(no subject)"),
        "to": str(message["to"] or ""),
        "sender": str(message["from"] or ""),
        "date": sent,
        "text": body.get_content() if body is not None else "",
    }


def messages_for(readable: set[str] | None) -> list[dict]:
    """The newest messages `readable` allows, newest first."""
    folder = _folder()
    paths = [p for p in folder.glob("*.eml") if NAME.match(p.name)] if folder.is_dir() else []
    # Names start with time.time_ns(), so the number orders them by time.
    paths.sort(key=lambda p: int(p.name.split("-")[0]), reverse=True)
    shown = []
    for path in paths:
        if len(shown) >= LIMIT:
            break
        if _visible(path, readable):
            shown.append(_read(path))
    return shown


def message_for(readable: set[str] | None, name: str) -> dict:
    """One message; Http404 when it does not exist or is not the reader's (the same answer)."""
    folder = _folder()
    path = folder / name
    if not NAME.match(name) or not path.is_file() or not _visible(path, readable):
        raise Http404("No such message.")
    return _read(path)
