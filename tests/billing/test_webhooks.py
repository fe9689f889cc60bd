"""Stripe webhooks end to end: checkout, invoices, plan changes, packs -- delivered once, ten
times, out of order, forged -- against the fake Stripe server."""

import json

import pytest

from accounts.models import User
from billing import actions, sync
from billing.models import BillingAccount, Payment, StripeEvent, Subscription
from credits.actions import get_balance, ledger_is_consistent
from credits.models import CreditEntry
from tests.billing.conftest import PRICES, session_id


def reload(user):
    return User.objects.get(pk=user.pk)


def references(user):
    """The ledger's references for money received (the welcome credits aside)."""
    return sorted(CreditEntry.objects.filter(user=user, reference__startswith="stripe:")
                  .values_list("reference", flat=True))


WELCOME = 5  # Free's credits, granted at sign-up


def test_full_subscription_journey(alice, stripe_fake, deliver, checkout, client):
    assert alice.plan == "free" and get_balance(alice) == WELCOME

    # Free -> Pro through Checkout; Stripe sends subscription.created, invoice.paid, completed.
    url = actions.start_checkout(alice, plan="pro")
    assert url.startswith(stripe_fake.url + "/c/pay/cs_test_")
    sent = stripe_fake.calls("POST", "/v1/checkout/sessions")[-1]
    assert "line_items[0][price]=price_pro_test" in sent.body.decode()
    assert "mode=subscription" in sent.body.decode()
    events = stripe_fake.complete_checkout(session_id(url))
    assert [e["type"] for e in events] == ["customer.subscription.created", "invoice.paid",
                                           "checkout.session.completed"]
    for response in deliver.all(events):
        assert response.status_code == 200, response.content
    alice = reload(alice)
    assert alice.plan == "pro"
    assert get_balance(alice) == WELCOME + 400
    first_invoice = events[1]["data"]["object"]["id"]
    assert references(alice) == [f"stripe:invoice:{first_invoice}"]
    sub = Subscription.objects.get(user=alice)
    assert sub.status == "active" and sub.plan == "pro" and sub.current_period_end

    # The next period: one more invoice, 400 more credits.
    renewal = stripe_fake.renew(sub.stripe_id)
    assert all(r.status_code == 200 for r in deliver.all(renewal))
    assert get_balance(alice) == WELCOME + 800
    sub.refresh_from_db()
    assert sub.current_period_start > sub.created_at.replace(microsecond=0)

    # Downgrade to Creator in the portal: the plan changes now, no credits move.
    deliver.all(stripe_fake.change_price(sub.stripe_id, PRICES["creator"]))
    alice = reload(alice)
    assert alice.plan == "creator" and get_balance(alice) == WELCOME + 800

    # Cancel at period end: still Creator until then.
    deliver.all(stripe_fake.cancel_at_period_end(sub.stripe_id))
    alice = reload(alice)
    sub.refresh_from_db()
    assert alice.plan == "creator" and sub.cancel_at_period_end
    client.force_login(alice)
    page = client.get("/dashboard/billing/").content.decode()
    assert "Ends on" in page and "then back to Free" in page

    # The period ends: Stripe deletes the subscription -> Free, credits kept.
    ended = stripe_fake.renew(sub.stripe_id)
    assert [e["type"] for e in ended] == ["customer.subscription.deleted"]
    deliver.all(ended)
    alice = reload(alice)
    assert alice.plan == "free" and get_balance(alice) == WELCOME + 800
    assert Subscription.objects.get(pk=sub.pk).status == "canceled"

    # Every credit movement is in the ledger exactly once.
    invoices = [e["data"]["object"]["id"] for e in stripe_fake.events_of("invoice.paid")]
    assert references(alice) == sorted(f"stripe:invoice:{i}" for i in invoices)
    assert len(invoices) == 2 and ledger_is_consistent(alice)
    assert Payment.objects.filter(user=alice).count() == 2
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_upgrade_mid_period_tops_up_to_the_new_plan(alice, stripe_fake, deliver, checkout):
    deliver.all(checkout(alice, plan="creator"))
    assert get_balance(alice) == WELCOME + 200
    sub = Subscription.objects.get(user=alice)
    events = stripe_fake.change_price(sub.stripe_id, PRICES["enterprise"])
    assert [e["type"] for e in events] == ["customer.subscription.updated", "invoice.paid"]
    deliver.all(events)
    assert reload(alice).plan == "enterprise"
    assert get_balance(alice) == WELCOME + 1000  # 200 for Creator, topped up by 800 this period


def test_pack_purchase(alice, stripe_fake, deliver, checkout):
    events = checkout(alice, pack="pack_100")
    assert [e["type"] for e in events] == ["checkout.session.completed"]
    session = events[0]["data"]["object"]
    assert session["mode"] == "payment" and session["amount_total"] == 1200
    assert deliver(events[0]).status_code == 200
    assert get_balance(alice) == WELCOME + 100
    assert references(alice) == [f"stripe:checkout:{session['id']}"]
    payment = Payment.objects.get(user=alice)
    assert (payment.kind, payment.item, payment.amount_cents) == ("pack", "pack_100", 1200)
    assert reload(alice).plan == "free"  # a pack changes no plan


def test_the_same_event_ten_times_credits_once(alice, stripe_fake, deliver, checkout):
    events = checkout(alice, plan="pro")
    invoice_paid = events[1]
    statuses = [deliver(invoice_paid).status_code for _ in range(10)]
    assert statuses == [200] * 10
    assert get_balance(alice) == WELCOME + 400
    assert len(references(alice)) == 1
    row = StripeEvent.objects.get(event_id=invoice_paid["id"])
    assert row.deliveries == 10 and row.status == "processed" and row.attempts == 1
    # The rest, also twice, and the polling that covers lost webhooks: still once.
    deliver.all(events, times=2)
    sync.reconcile_customer(alice)
    assert get_balance(alice) == WELCOME + 400 and ledger_is_consistent(alice)


def test_events_out_of_order_converge(alice, stripe_fake, deliver, checkout):
    events = checkout(alice, plan="pro")
    sub_id = events[0]["data"]["object"]["id"]
    # Our link to the customer is lost (as if the events beat our own record): the customer's
    # metadata at Stripe names the account.
    BillingAccount.objects.filter(user=alice).update(stripe_customer_id=None)
    later = stripe_fake.renew(sub_id) + stripe_fake.change_price(sub_id, PRICES["enterprise"])
    everything = events + later
    # Newest first: the renewal's invoice and the upgrade arrive before checkout completed.
    for response in deliver.all(list(reversed(everything))):
        assert response.status_code == 200, response.content
    alice = reload(alice)
    assert BillingAccount.objects.get(user=alice).stripe_customer_id == \
        events[0]["data"]["object"]["customer"]
    assert alice.plan == "enterprise"
    # Three paid invoices: create (Pro 400), renewal (Pro 400), upgrade (top-up to 1000).
    assert Payment.objects.filter(user=alice).count() == 3
    assert get_balance(alice) == WELCOME + 400 + 400 + 600
    assert ledger_is_consistent(alice)


def test_a_stale_update_after_deletion_keeps_free(alice, stripe_fake, deliver, checkout):
    events = checkout(alice, plan="pro")
    sub_id = events[0]["data"]["object"]["id"]
    update = stripe_fake.cancel_at_period_end(sub_id)
    deleted = stripe_fake.cancel(sub_id)
    deliver.all(events)
    deliver.all(deleted)
    deliver.all(update)  # late: says "active, cancels at period end"
    assert reload(alice).plan == "free"
    assert Subscription.objects.get(stripe_id=sub_id).status == "canceled"


def test_invoice_before_anything_else_links_and_credits(alice, stripe_fake, deliver, checkout):
    events = checkout(alice, plan="creator")
    Subscription.objects.all().delete()
    assert deliver(events[1]).status_code == 200  # invoice.paid first, nothing known locally
    assert reload(alice).plan == "creator" and get_balance(alice) == WELCOME + 200


@pytest.mark.parametrize("forge", ["wrong_secret", "tampered", "missing", "old", "not_json"])
def test_forged_signature_is_refused_and_changes_nothing(alice, stripe_fake, deliver, checkout,
                                                         client, forge):
    events = checkout(alice, plan="pro")
    event = events[1]
    if forge == "wrong_secret":
        response = deliver(event, secret="whsec_someone_else")
    elif forge == "old":
        import time

        response = deliver(event, timestamp=int(time.time()) - 3600)
    elif forge == "missing":
        response = client.post("/webhooks/stripe", json.dumps(event),
                               content_type="application/json")
    else:
        body, headers = stripe_fake.signed(event)
        if forge == "tampered":
            body = body.replace(b'"paid"', b'"open"', 1)
        else:
            body = b"not json"
            from fakes.stripe import signature_header

            headers["Stripe-Signature"] = signature_header(body, stripe_fake.webhook_secret)
        response = client.generic("POST", "/webhooks/stripe", body,
                                  content_type="application/json",
                                  HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("bad_signature", "bad_request")
    assert StripeEvent.objects.count() == 0
    assert get_balance(alice) == WELCOME and reload(alice).plan == "free"


@pytest.mark.parametrize("body", [b"[]", b'"evt_1"', b"1", b"null", b'{"id": 7}',
                                  b'{"id": "evt_1", "created": "yesterday"}',
                                  b'{"id": "evt_1", "type": ["invoice.paid"]}',
                                  b'{"id": "evt_1", "type": "invoice.paid", "data": []}',
                                  b'{"id": "evt_1", "data": {"object": "x"}}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_an_event_is_a_json_400(alice, stripe_fake, client, body):
    from fakes.stripe import signature_header

    response = client.generic("POST", "/webhooks/stripe", body, content_type="application/json",
                              HTTP_STRIPE_SIGNATURE=signature_header(body,
                                                                     stripe_fake.webhook_secret))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert StripeEvent.objects.count() == 0
    assert get_balance(alice) == WELCOME


def test_failed_processing_is_kept_and_reprocessed(alice, stripe_fake, deliver, checkout,
                                                   admin_client, admin_user):
    from tests.factories import enable_totp

    enable_totp(admin_user)  # staff pages need two-factor authentication
    events = checkout(alice, plan="pro")
    stripe_fake.fail(503, times=10, path=r"^/v1/subscriptions/")
    response = deliver(events[0])  # subscription.created: Stripe cannot be read now
    assert response.status_code == 500
    row = StripeEvent.objects.get(event_id=events[0]["id"])
    assert row.status == "failed" and "StripeUnavailable" in row.error
    assert reload(alice).plan == "free"
    stripe_fake.clear_faults()
    # The admin's re-process action.
    admin_client.post("/admin/billing/stripeevent/", {"action": "reprocess",
                                                      "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == "processed" and row.attempts == 2
    assert reload(alice).plan == "pro"


def test_payment_failed_sends_one_notice(alice, stripe_fake, deliver, checkout, mailoutbox,
                                         run_jobs, client):
    deliver.all(checkout(alice, plan="pro"))
    sub = Subscription.objects.get(user=alice)
    failed = stripe_fake.fail_payment(sub.stripe_id)
    deliver.all(failed)
    deliver(failed[0])  # redelivered: no second e-mail
    run_jobs()
    notices = [m for m in mailoutbox if "did not go through" in m.subject]
    assert len(notices) == 1 and notices[0].to == ["alice@example.com"]
    assert "billing portal" in notices[0].body
    sub.refresh_from_db()
    assert sub.status == "past_due" and reload(alice).plan == "pro"  # grace period
    client.force_login(alice)
    assert 'data-banner="payment_failed"' in client.get("/dashboard/billing/").content.decode()


def test_unknown_event_types_are_stored_and_ignored(alice, stripe_fake, deliver):
    event = {"id": "evt_unrelated", "object": "event", "type": "customer.created",
             "created": 1, "data": {"object": {"id": "cus_x"}}}
    assert deliver(event).status_code == 200
    assert StripeEvent.objects.get(event_id="evt_unrelated").status == "ignored"


def test_webhook_without_a_secret_is_unavailable(alice, stripe_fake, deliver, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = {"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1,
             "data": {"object": {}}}
    assert deliver(event).status_code == 503
    assert StripeEvent.objects.count() == 0
