"""The billing, usage and business pages, checkout and portal redirects, the CSV export."""

import csv
import io
import re
from datetime import timedelta

from django.utils import timezone

from billing.models import Payment, Subscription
from credits.actions import grant, spend
from credits.models import CreditEntry
from generation.models import Generation, Image
from tests.billing.conftest import PRICES


def test_billing_page_in_demo_mode(alice_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = alice_client.get("/dashboard/billing/").content.decode()
    assert "Billing is not configured" in page
    for plan in ("free", "creator", "pro", "enterprise"):
        assert f'data-plan="{plan}"' in page
    assert "sm:grid-cols-2 xl:grid-cols-4" in page
    assert 'data-checkout="pro"' in page and "disabled" in page
    response = alice_client.post("/dashboard/billing/checkout", {"plan": "pro"}, follow=True)
    assert "not configured" in response.content.decode()


def test_billing_page_with_a_subscription(alice, client, stripe_fake, deliver, checkout):
    deliver.all(checkout(alice, plan="pro"))
    client.force_login(alice)
    page = client.get("/dashboard/billing/").content.decode()
    assert 'data-current-plan="pro"' in page
    sub = Subscription.objects.get(user=alice)
    assert f"Renews on {sub.current_period_end.day} " in page
    assert 'data-period-credits>400<' in page
    assert page.count("data-invoice") == 1 and "FAKE-" in page
    assert "Manage billing" in page


def test_checkout_and_portal_redirect_to_stripe(alice_client, alice, stripe_fake):
    response = alice_client.post("/dashboard/billing/checkout", {"plan": "creator"})
    assert response.status_code == 302
    assert response["Location"].startswith(stripe_fake.url + "/c/pay/cs_test_")
    sent = stripe_fake.calls("POST", "/v1/checkout/sessions")[-1].body.decode()
    assert "success_url=" in sent and "client_reference_id=" + str(alice.public_id) in sent
    response = alice_client.post("/dashboard/billing/portal")
    assert response["Location"].startswith(stripe_fake.url + "/p/session/bps_")


def test_success_return_applies_the_checkout_without_the_webhook(alice_client, alice,
                                                                 stripe_fake):
    response = alice_client.post("/dashboard/billing/checkout", {"pack": "pack_500"})
    sid = response["Location"].rsplit("/", 1)[-1]
    stripe_fake.complete_checkout(sid)  # the webhook is lost
    page = alice_client.get(f"/dashboard/billing/success?session_id={sid}", follow=True)
    assert "Your payment went through" in page.content.decode()
    assert CreditEntry.objects.get(reference=f"stripe:checkout:{sid}").delta == 500
    # Back from a canceled checkout: a clear message, nothing charged.
    page = alice_client.get("/dashboard/billing/canceled", follow=True).content.decode()
    assert "Checkout canceled" in page


def test_the_hosted_checkout_page_pays_and_returns(alice_client, stripe_fake):
    import httpx

    response = alice_client.post("/dashboard/billing/checkout", {"plan": "pro"})
    url = response["Location"]
    assert "Pay $40.00 a month" in httpx.get(url).text
    paid = httpx.post(url, data={"action": "pay"})
    assert paid.status_code == 303 and "/dashboard/billing/success?session_id=cs_test_" in \
        paid.headers["location"]
    assert [e["type"] for e in stripe_fake.events][-1] == "checkout.session.completed"


def make_image(user, base_model="flux-schnell", days_ago=0):
    generation = Generation.objects.create(
        user=user, prompt="p", base_model=base_model, aspect_ratio="1:1", width=512,
        height=512, num_images=1, seed=1, credits_reserved=1, status="succeeded")
    image = Image.objects.create(user=user, generation=generation, index=0, file="x.png",
                                 thumbnail="x.webp", content_type="image/png", width=512,
                                 height=512, prompt="p", base_model=base_model,
                                 aspect_ratio="1:1", seed=1, provider="demo")
    if days_ago:
        Image.objects.filter(pk=image.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago))
    return image


def test_usage_page_and_chart(alice_client, alice, bob):
    grant(alice, 100, reason="test", reference="t:1")
    spend(alice, 7, reason="Generation of 7 images", reference="s:1")
    spend(alice, 3, reason="x", reference="s:2")
    CreditEntry.objects.filter(reference="s:2").update(
        created_at=timezone.now() - timedelta(days=2))
    spend(bob, 4, reason="bob's", reference="s:3")
    make_image(alice)
    make_image(alice)
    page = alice_client.get("/dashboard/usage/").content.decode()
    assert "data-chart" in page and "<svg" in page
    # Drawn here, not by a chart library from a CDN (a random token may spell "cdn": a host
    # is what would be one).
    assert not re.search(r"//[\w.-]*cdn[\w.-]*\.", page.lower())
    assert page.count('data-value="7"') == 1 and page.count('data-value="3"') == 1
    assert page.count("<rect") == 30
    assert "data-spent-30>10<" in page
    assert "Images per base model" in page and "data-per-base-model" in page


def test_csv_export_of_the_ledger(alice_client, alice, bob):
    grant(alice, 10, reason="=HYPERLINK(\"x\")", reference="t:1")
    spend(alice, 3, reason="Generation of 3 images", reference="s:1")
    spend(bob, 1, reason="not alice's", reference="s:2")
    response = alice_client.get("/dashboard/usage/ledger.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["date", "kind", "change", "balance_after", "reason", "reference"]
    assert [r[2] for r in rows[1:]] == ["5", "10", "-3"]  # oldest first: welcome, grant, spend
    assert rows[2][4] == "'=HYPERLINK(\"x\")"  # never a formula
    assert rows[3][3] == "12" and all("not alice's" not in row[4] for row in rows)


def test_business_page_is_staff_only(client, alice, bob, charlie, stripe_fake, deliver,
                                     checkout):
    deliver.all(checkout(alice, plan="pro"))
    deliver.all(checkout(bob, pack="pack_100"))
    make_image(alice)
    client.force_login(charlie)
    assert client.get("/dashboard/business/").status_code == 404
    client.logout()
    assert client.get("/dashboard/business/").status_code == 302  # to the login page
    charlie.is_staff = True
    charlie.save()
    client.force_login(charlie)
    response = client.get("/dashboard/business/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-mrr>$40<" in page
    weeks = response.context["weeks"]
    assert len(weeks) == 12
    this_week = weeks[0]
    assert this_week["signups"] == 3 and this_week["converted"] == 1
    assert this_week["revenue_cents"] == 4000 + 1200
    assert this_week["first_image_hours"] is not None
    assert Payment.objects.count() == 2
    assert "Business" in page and '/dashboard/business/' in page  # in the staff's nav


def test_nav_has_billing_and_usage(alice_client):
    page = alice_client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/billing/"' in page and 'href="/dashboard/usage/"' in page
    assert 'href="/dashboard/business/"' not in page


def test_downgraded_price_is_shown(alice, client, stripe_fake, deliver, checkout):
    deliver.all(checkout(alice, plan="enterprise"))
    sub = Subscription.objects.get(user=alice)
    deliver.all(stripe_fake.change_price(sub.stripe_id, PRICES["creator"]))
    client.force_login(alice)
    assert 'data-current-plan="creator"' in client.get("/dashboard/billing/").content.decode()
