"""Every movement of credits goes through here: one transaction, one ledger row, the balance
updated under a row lock, idempotent per reference, never below zero."""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Sum

from accounts.plans import DEMO_CREDITS, PLANS
from credits import addresses
from credits.models import CreditAccount, CreditEntry, WelcomedAddress
from credits.signals import balance_changed
from likeness.errors import InsufficientCredits  # noqa: F401  (raised here; callers catch it)


def get_balance(user) -> int:
    account = CreditAccount.objects.filter(user=user).only("balance").first()
    return account.balance if account else 0


def _locked_account(user) -> CreditAccount:
    try:
        CreditAccount.objects.get_or_create(user=user)
    except IntegrityError:  # created concurrently; fine, it exists now
        pass
    return CreditAccount.objects.select_for_update().get(user=user)


def post_entry(user, *, kind, delta, reason, reference, actor=None) -> CreditEntry:
    """Record one movement. A second call with the same reference returns the first row and
    changes nothing. Raises InsufficientCredits rather than overdraw."""
    with transaction.atomic():
        account = _locked_account(user)
        # Checked after taking the lock, so a concurrent twin has committed or not started.
        existing = CreditEntry.objects.filter(reference=reference).first()
        if existing is not None:
            return existing
        new_balance = account.balance + delta
        if new_balance < 0:
            raise InsufficientCredits(-delta, account.balance)
        entry = CreditEntry.objects.create(
            user=user,
            kind=kind,
            delta=delta,
            balance_after=new_balance,
            reason=reason[:200],
            reference=reference,
            actor=actor,
        )
        old_balance, account.balance = account.balance, new_balance
        account.save(update_fields=["balance", "updated_at"])
        # Billing's low-credit notice listens (once per crossing).
        transaction.on_commit(lambda: balance_changed.send(
            sender=CreditEntry, user=user, old=old_balance, new=new_balance), robust=True)
        return entry


def grant(user, amount: int, *, reason: str, reference: str) -> CreditEntry:
    assert amount > 0
    return post_entry(user, kind=CreditEntry.Kind.GRANT, delta=amount, reason=reason,
                      reference=reference)


def spend(user, amount: int, *, reason: str, reference: str) -> CreditEntry:
    assert amount > 0
    return post_entry(user, kind=CreditEntry.Kind.SPEND, delta=-amount, reason=reason,
                      reference=reference)


def refund(user, amount: int, *, reason: str, reference: str) -> CreditEntry:
    assert amount > 0
    return post_entry(user, kind=CreditEntry.Kind.REFUND, delta=amount, reason=reason,
                      reference=reference)


def adjust(user, delta: int, *, reason: str, actor=None) -> CreditEntry:
    """A manual correction by staff. The reason is required and kept in the ledger."""
    if not reason.strip():
        raise ValueError("A credit adjustment needs a reason.")
    if delta == 0:
        raise ValueError("A credit adjustment must change the balance.")
    return post_entry(user, kind=CreditEntry.Kind.ADJUSTMENT, delta=delta, reason=reason.strip(),
                      reference=f"adjust:{uuid.uuid4()}", actor=actor)


def grant_signup_credits(user) -> CreditEntry | None:
    """The Free plan's credits for a new account, once per address: None when the address
    (credits.addresses.normalise) has had them already, in an account since deleted too."""
    seen = addresses.digests(user.email)
    with transaction.atomic():
        if WelcomedAddress.objects.filter(digest__in=seen).exists():
            return None
        try:
            with transaction.atomic():
                WelcomedAddress.objects.create(digest=seen[0])
        except IntegrityError:  # the same address, signing up at this very moment
            return None
        return grant(user, PLANS["free"].monthly_credits, reason="Welcome credits (Free plan)",
                     reference=f"signup:{user.public_id}")


def grant_demo_credits(user) -> CreditEntry | None:
    """Bring a new demo account to DEMO_CREDITS (on top of nothing: its welcome credits count),
    once: a second call finds the first grant by its reference."""
    reference = f"demo:{user.public_id}"
    existing = CreditEntry.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    top_up = DEMO_CREDITS - get_balance(user)
    if top_up <= 0:
        return None
    return grant(user, top_up, reason="Demo account credits", reference=reference)


def ledger_is_consistent(user) -> bool:
    total = CreditEntry.objects.filter(user=user).aggregate(total=Sum("delta"))["total"] or 0
    return total == get_balance(user)
