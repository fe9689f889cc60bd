"""The Stripe fake, driven through the official `stripe` SDK (host-only base address)."""

import json

import pytest
import stripe

from fakes.stripe import FakeStripe, decode_form, signature_header


@pytest.fixture
def stripe_fake(fake_servers):
    fake = fake_servers.get(FakeStripe)
    fake.add_price("price_pro", 4000, product="Pro")
    fake.add_price("price_pack", 1200, interval=None, product="100 credits")
    return fake


def client(fake, key=None):
    return stripe.StripeClient(key or fake.token, base_addresses={"api": fake.url},
                               max_network_retries=0)


def test_decode_form_reads_brackets():
    assert decode_form(b"a=1&line_items[0][price]=p&line_items[0][quantity]=2&metadata[u]=x") \
        == {"a": "1", "line_items": [{"price": "p", "quantity": "2"}], "metadata": {"u": "x"}}


def test_customer_checkout_portal_subscription_invoices(stripe_fake):
    c = client(stripe_fake)
    customer = c.v1.customers.create(params={"email": "a@example.com",
                                             "metadata": {"user": "u1"}})
    assert customer.id.startswith("cus_") and customer.metadata["user"] == "u1"
    assert c.v1.customers.retrieve(customer.id).email == "a@example.com"
    session = c.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id,
        "line_items": [{"price": "price_pro", "quantity": 1}],
        "success_url": "http://app/ok?s={CHECKOUT_SESSION_ID}", "cancel_url": "http://app/no",
        "subscription_data": {"metadata": {"user": "u1"}}})
    assert session.status == "open" and session.url.startswith(stripe_fake.url + "/c/pay/")
    events = stripe_fake.complete_checkout(session.id)
    done = c.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    sub = c.v1.subscriptions.retrieve(done.subscription)
    assert sub.status == "active" and sub.metadata["user"] == "u1"
    assert sub["items"].data[0].price.id == "price_pro"
    invoices = c.v1.invoices.list(params={"customer": customer.id})
    assert len(invoices.data) == 1 and invoices.data[0].amount_paid == 4000
    invoice = invoices.data[0]
    assert invoice.parent.subscription_details.subscription == sub.id
    assert events[1]["data"]["object"]["id"] == invoice.id
    portal = c.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                         "return_url": "http://app/b"})
    assert portal.url.startswith(stripe_fake.url + "/p/session/bps_")
    listed = c.v1.subscriptions.list(params={"customer": customer.id, "status": "all"})
    assert [s.id for s in listed.data] == [sub.id]


def test_lifecycle_events(stripe_fake):
    c = client(stripe_fake)
    customer = c.v1.customers.create(params={"email": "a@example.com"})
    session = c.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id,
        "line_items": [{"price": "price_pro"}], "success_url": "x", "cancel_url": "y"})
    sub_id = stripe_fake.complete_checkout(session.id)[0]["data"]["object"]["id"]
    renewal = stripe_fake.renew(sub_id)
    assert [e["type"] for e in renewal] == ["customer.subscription.updated", "invoice.paid"]
    assert renewal[1]["data"]["object"]["billing_reason"] == "subscription_cycle"
    assert stripe_fake.cancel_at_period_end(sub_id)[0]["data"]["object"]["cancel_at_period_end"]
    assert [e["type"] for e in stripe_fake.renew(sub_id)] == ["customer.subscription.deleted"]
    assert c.v1.subscriptions.retrieve(sub_id).status == "canceled"
    assert all(e["id"].startswith("evt_") and e["created"] for e in stripe_fake.events)


def test_errors_as_stripe_answers_them(stripe_fake):
    with pytest.raises(stripe.AuthenticationError):
        client(stripe_fake, key="sk_test_wrong").v1.customers.create(params={})
    c = client(stripe_fake)
    with pytest.raises(stripe.InvalidRequestError) as err:
        c.v1.checkout.sessions.create(params={
            "mode": "payment", "line_items": [{"price": "price_nope"}],
            "success_url": "x", "cancel_url": "y"})
    assert err.value.code == "resource_missing" and err.value.param == "line_items[0][price]"
    with pytest.raises(stripe.InvalidRequestError):  # a one-time price in subscription mode
        c.v1.checkout.sessions.create(params={
            "mode": "subscription", "line_items": [{"price": "price_pack"}],
            "success_url": "x", "cancel_url": "y"})
    with pytest.raises(stripe.InvalidRequestError) as err:
        c.v1.subscriptions.retrieve("sub_missing")
    assert err.value.http_status == 404
    stripe_fake.fail(500)
    with pytest.raises(stripe.APIError):
        c.v1.customers.create(params={})


def test_idempotency_key_replays_the_first_answer(stripe_fake):
    c = client(stripe_fake)
    first = c.v1.customers.create(params={"email": "a@example.com"},
                                  options={"idempotency_key": "k1"})
    again = c.v1.customers.create(params={"email": "a@example.com"},
                                  options={"idempotency_key": "k1"})
    assert first.id == again.id and len(stripe_fake.customers) == 1


def test_signed_events_verify_with_the_sdk(stripe_fake, receiver):
    c = client(stripe_fake)
    session = c.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": "price_pack"}], "success_url": "x",
        "cancel_url": "y", "metadata": {"pack": "pack_100"}})
    event = stripe_fake.complete_checkout(session.id)[0]
    body, headers = stripe_fake.signed(event)
    parsed = stripe.Webhook.construct_event(body, headers["Stripe-Signature"],
                                            stripe_fake.webhook_secret)
    assert parsed.type == "checkout.session.completed"
    assert parsed.data.object.metadata["pack"] == "pack_100"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")
    # deliver() POSTs it now, signed: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">.
    assert stripe_fake.deliver(event, receiver.url) == 200
    got = receiver.wait(1)[0]
    t = got.headers["stripe-signature"].split(",")[0][2:]
    assert got.headers["stripe-signature"] == signature_header(got.body, stripe_fake.webhook_secret,
                                                               int(t))
    assert json.loads(got.body)["id"] == event["id"]


def test_auto_delivery_with_faults(receiver):
    with FakeStripe(webhook_url=receiver.url, auto_deliver=True) as fake:
        fake.add_price("price_pack", 1200, interval=None)
        c = client(fake)
        fake.duplicate_webhooks(1)
        session = c.v1.checkout.sessions.create(params={
            "mode": "payment", "line_items": [{"price": "price_pack"}], "success_url": "x",
            "cancel_url": "y"})
        fake.complete_checkout(session.id)
        assert fake.wait_webhooks()
        got = receiver.wait(2)
        assert len(got) == 2 and got[0].body == got[1].body  # the same event, twice
        for delivery in got:
            stripe.Webhook.construct_event(delivery.body, delivery.headers["stripe-signature"],
                                           fake.webhook_secret)


def test_hosted_pages(stripe_fake):
    import httpx

    c = client(stripe_fake)
    customer = c.v1.customers.create(params={})
    session = c.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id, "line_items": [{"price": "price_pro"}],
        "success_url": "http://app/ok?s={CHECKOUT_SESSION_ID}", "cancel_url": "http://app/no"})
    assert httpx.post(session.url, data={"action": "cancel"}).headers["location"] == \
        "http://app/no"
    paid = httpx.post(session.url, data={"action": "pay"})
    assert paid.headers["location"] == f"http://app/ok?s={session.id}"
    stripe_fake.add_price("price_creator", 2000, product="Creator")
    portal = c.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                         "return_url": "http://app/b"})
    assert "Switch to Creator" in httpx.get(portal.url).text
    httpx.post(portal.url, data={"price": "price_creator"})
    sub = c.v1.subscriptions.list(params={"customer": customer.id}).data[0]
    assert sub["items"].data[0].price.id == "price_creator"
