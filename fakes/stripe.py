"""A fake of the parts of Stripe that Likeness uses, for the official `stripe` SDK (16.x):
`stripe.StripeClient(fake.token, base_addresses={"api": fake.url})` -- host only: the SDK puts
`/v1/...` in every path. stripe-mock is not installable here and localstripe lacks Checkout and
the Portal (see docs/providers.md).

Wire protocol as Stripe's: form-encoded bodies with bracketed keys (`line_items[0][price]`,
`metadata[user]`), `Authorization: Bearer sk_...`, JSON answers, errors
`{"error": {"type", "code", "message", "param"}}`, `Idempotency-Key` honoured on POST.

Endpoints: POST/GET /v1/customers[/id], POST/GET /v1/checkout/sessions[/id],
POST /v1/billing_portal/sessions, GET/POST/DELETE /v1/subscriptions/id, GET /v1/invoices[/id],
GET /v1/prices/id. Plus two pages a browser can click through: the hosted checkout
(`/c/pay/<session>`) and the portal (`/p/session/<portal session>`).

What Stripe does on its own side is driven from the test through methods that change the state
and return the events Stripe would send: `complete_checkout()`, `renew()`, `change_price()`,
`cancel_at_period_end()`, `cancel()`, `fail_payment()`. Events are kept in `.events`; each is
sent nowhere unless asked: `signed(event)` gives the body and the `Stripe-Signature` header,
`deliver(event, url)` POSTs it now, and with `webhook_url` set (and `auto_deliver=True`) every
event is also sent in the background the way Stripe does, with the base's faults (lost,
duplicated, delayed).
"""

from __future__ import annotations

import html
import json
import time
import urllib.error
import urllib.request
from typing import Any

from fakes.base import FakeServer, HttpError, Request, Response, json_response, random_id, route
from fakes.stripe_subscriptions import Subscriptions
from fakes.stripe_wire import (  # noqa: F401 - tests import the wire helpers from here
    ALNUM,
    API_VERSION,
    DAY,
    PERIOD,
    decode_form,
    new_id,
    signature_header,
)


class FakeStripe(Subscriptions, FakeServer):
    name = "stripe"
    default_token = "sk_test_fake_likeness"
    default_webhook_secret = "whsec_fake_likeness_endpoint_secret"

    def __init__(self, token: str | None = None, *, webhook_secret: str | None = None,
                 webhook_url: str | None = None, auto_deliver: bool = False, **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.webhook_secret = webhook_secret or self.default_webhook_secret
        self.webhook_url = webhook_url
        self.auto_deliver = auto_deliver
        self.reset_state()

    def reset_state(self) -> None:
        self.prices: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.portal_sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.events: list[dict] = []
        self._idempotent: dict[str, Response] = {}
        self._time_offset = 0

    # ----- clock (Stripe's own time, in unix seconds; `travel()` moves it)

    def unix(self) -> int:
        return int(time.time()) + self._time_offset

    def travel(self, seconds: int) -> None:
        with self.lock:
            self._time_offset += int(seconds)

    # ----- catalogue

    def add_price(self, price_id: str, unit_amount: int, *, interval: str | None = "month",
                  product: str = "", currency: str = "usd") -> dict:
        price = {"id": price_id, "object": "price", "active": True, "currency": currency,
                 "unit_amount": unit_amount, "product": product or f"prod_{price_id}",
                 "type": "recurring" if interval else "one_time",
                 "recurring": {"interval": interval, "interval_count": 1} if interval else None,
                 "nickname": product or price_id}
        with self.lock:
            self.prices[price_id] = price
        return price

    # ----- errors and auth as Stripe answers them

    def auth_error(self, req: Request) -> Response:
        return self.error_response(401, "Invalid API Key provided.", type="invalid_request_error")

    def error_response(self, status: int, message: str, type: str | None = None,  # noqa: A002
                       code: str | None = None, param: str | None = None, **extra: Any
                       ) -> Response:
        kind = type or ("api_error" if status >= 500 else "invalid_request_error")
        error = {"type": kind, "message": message}
        if code:
            error["code"] = code
        if param:
            error["param"] = param
        return json_response({"error": error}, status,
                             headers={"Request-Id": new_id("req")})

    def not_found(self, req: Request) -> Response:
        return self.error_response(404, f"Unrecognized request URL ({req.method}: {req.path}).")

    def _missing(self, kind: str, object_id: str, param: str = "id"):
        raise HttpError(404, f"No such {kind}: '{object_id}'", code="resource_missing",
                        param=param)

    def _dispatch(self, req: Request) -> Response:
        key = req.header("idempotency-key")
        if req.method == "POST" and key and req.path.startswith("/v1/"):
            with self.lock:
                if key in self._idempotent:
                    return self._idempotent[key]
            resp = super()._dispatch(req)
            if resp.status < 500:
                with self.lock:
                    self._idempotent[key] = resp
            return resp
        return super()._dispatch(req)

    # ----- events

    def _event(self, type_: str, obj: dict, previous: dict | None = None) -> dict:
        data: dict = {"object": json.loads(json.dumps(obj))}
        if previous:
            data["previous_attributes"] = previous
        event = {"id": new_id("evt"), "object": "event", "api_version": API_VERSION,
                 "created": self.unix(), "type": type_, "livemode": False,
                 "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
                 "data": data}
        self.events.append(event)
        if self.auto_deliver and self.webhook_url:
            self.webhooks.send(self.webhook_url, type_, json.dumps(event).encode(), retry=True)
        return event

    def sign_webhook(self, delivery) -> dict[str, str]:
        return {"Stripe-Signature": signature_header(delivery.body, self.webhook_secret)}

    def signed(self, event: dict, *, secret: str | None = None, timestamp: int | None = None
               ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would POST for `event`."""
        body = json.dumps(event).encode()
        header = signature_header(body, secret or self.webhook_secret, timestamp)
        return body, {"Content-Type": "application/json; charset=utf-8",
                      "Stripe-Signature": header}

    def deliver(self, event: dict, url: str | None = None, *, secret: str | None = None,
                timeout: float = 10.0) -> int:
        """POST the signed event to `url` (default `webhook_url`) now; the status answered."""
        body, headers = self.signed(event, secret=secret)
        req = urllib.request.Request(url or self.webhook_url, data=body,  # noqa: S310
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def events_of(self, type_: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type_]

    # ----- customers

    @route("POST", r"/v1/customers")
    def create_customer(self, req: Request) -> Response:
        form = decode_form(req.body)
        customer = {"id": new_id("cus"), "object": "customer", "created": self.unix(),
                    "email": form.get("email"), "name": form.get("name"),
                    "metadata": form.get("metadata") or {}, "livemode": False}
        with self.lock:
            self.customers[customer["id"]] = customer
        return json_response(customer)

    @route("GET", r"/v1/customers/(?P<cid>[^/]+)")
    def get_customer(self, req: Request, cid: str) -> Response:
        with self.lock:
            customer = self.customers.get(cid)
        if customer is None:
            self._missing("customer", cid)
        return json_response(customer)

    # ----- prices

    @route("GET", r"/v1/prices/(?P<pid>[^/]+)")
    def get_price(self, req: Request, pid: str) -> Response:
        with self.lock:
            price = self.prices.get(pid)
        if price is None:
            self._missing("price", pid)
        return json_response(price)

    # ----- checkout

    @route("POST", r"/v1/checkout/sessions")
    def create_session(self, req: Request) -> Response:
        form = decode_form(req.body)
        mode = form.get("mode")
        if mode not in ("subscription", "payment"):
            raise HttpError(400, "Invalid mode: must be one of payment, setup, or subscription",
                            param="mode")
        for name in ("success_url", "cancel_url"):
            if not form.get(name):
                raise HttpError(400, f"Missing required param: {name}.", param=name)
        items = form.get("line_items") or []
        if not items or not items[0].get("price"):
            raise HttpError(400, "Missing required param: line_items.", param="line_items")
        price_id = items[0]["price"]
        with self.lock:
            price = self.prices.get(price_id)
            customer = form.get("customer")
            if customer and customer not in self.customers:
                self._missing("customer", customer, "customer")
        if price is None:
            self._missing("price", price_id, "line_items[0][price]")
        if (mode == "subscription") != (price["type"] == "recurring"):
            raise HttpError(400, f"The price {price_id} is {price['type']}; it cannot be used in "
                            f"{mode} mode.", param="line_items[0][price]")
        quantity = int(items[0].get("quantity") or 1)
        sid = "cs_test_" + random_id(40, ALNUM)
        session = {
            "id": sid, "object": "checkout.session", "mode": mode, "status": "open",
            "payment_status": "unpaid", "customer": customer,
            "customer_email": form.get("customer_email"),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata") or {}, "subscription": None,
            "payment_intent": None, "invoice": None,
            "amount_total": price["unit_amount"] * quantity,
            "currency": price["currency"], "created": self.unix(),
            "expires_at": self.unix() + DAY, "livemode": False,
            "success_url": form["success_url"], "cancel_url": form["cancel_url"],
            "url": f"{self.url}/c/pay/{sid}",
            "_price": price_id, "_quantity": quantity,
            "_subscription_metadata": (form.get("subscription_data") or {}).get("metadata") or {},
        }
        with self.lock:
            self.sessions[sid] = session
        return json_response(self._public(session))

    @route("GET", r"/v1/checkout/sessions/(?P<sid>[^/]+)")
    def get_session(self, req: Request, sid: str) -> Response:
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            self._missing("checkout.session", sid)
        return json_response(self._public(session))

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def complete_checkout(self, session_id: str, *, customer_email: str | None = None
                          ) -> list[dict]:
        """The customer pays: a subscription (with its first paid invoice) or a one-time payment.
        Returns the events in the order Stripe usually sends them."""
        with self.lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            if not session["customer"]:
                customer = {"id": new_id("cus"), "object": "customer", "created": self.unix(),
                            "email": session["customer_email"] or customer_email, "name": None,
                            "metadata": {}, "livemode": False}
                self.customers[customer["id"]] = customer
                session["customer"] = customer["id"]
            session.update(status="complete", payment_status="paid")
            events = []
            if session["mode"] == "subscription":
                sub = self._new_subscription(session["customer"], session["_price"],
                                             session["_subscription_metadata"])
                session["subscription"] = sub["id"]
                invoice = self._invoice(sub, "subscription_create")
                session["invoice"] = invoice["id"]
                events.append(self._event("customer.subscription.created", sub))
                events.append(self._event("invoice.paid", invoice))
                events.append(self._event("checkout.session.completed", self._public(session)))
            else:
                session["payment_intent"] = new_id("pi")
                events.append(self._event("checkout.session.completed", self._public(session)))
            return events

    def expire_checkout(self, session_id: str) -> list[dict]:
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return [self._event("checkout.session.expired", self._public(session))]

    # ----- the customer portal

    @route("POST", r"/v1/billing_portal/sessions")
    def create_portal_session(self, req: Request) -> Response:
        form = decode_form(req.body)
        customer = form.get("customer")
        with self.lock:
            if not customer:
                raise HttpError(400, "Missing required param: customer.", param="customer")
            if customer not in self.customers:
                self._missing("customer", customer, "customer")
            pid = new_id("bps")
            session = {"id": pid, "object": "billing_portal.session", "customer": customer,
                       "return_url": form.get("return_url"), "created": self.unix(),
                       "livemode": False, "url": f"{self.url}/p/session/{pid}"}
            self.portal_sessions[pid] = session
        return json_response(session)

    # ----- pages a browser can click through (no API key: the URL is the secret, as at Stripe)

    def _page(self, title: str, body: str) -> Response:
        doc = (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}"
               "</title><style>body{font:16px system-ui;max-width:32rem;margin:3rem auto;"
               "padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem 0}"
               "</style></head><body><p><small>Fake Stripe (test mode)</small></p>"
               f"<h1>{html.escape(title)}</h1>{body}</body></html>")
        return Response(200, doc.encode(), "text/html; charset=utf-8")

    @staticmethod
    def _redirect(url: str) -> Response:
        return Response(303, b"", None, {"Location": url})

    @route("GET", r"/c/pay/(?P<sid>[^/]+)", auth=False)
    def checkout_page(self, req: Request, sid: str) -> Response:
        with self.lock:
            session = self.sessions.get(sid)
        if session is None or session["status"] != "open":
            return self._page("Checkout", "<p>This checkout session is no longer open.</p>")
        price = self.prices[session["_price"]]
        amount = f"${session['amount_total'] / 100:,.2f}"
        every = " a month" if session["mode"] == "subscription" else ""
        return self._page(f"Pay {amount}{every}", (
            f"<p>{html.escape(price['nickname'])}</p>"
            f"<form method=post action='/c/pay/{sid}'><button name=action value=pay>"
            f"Pay {amount}</button> <button name=action value=cancel>Cancel</button></form>"))

    @route("POST", r"/c/pay/(?P<sid>[^/]+)", auth=False)
    def checkout_submit(self, req: Request, sid: str) -> Response:
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            return self.not_found(req)
        if decode_form(req.body).get("action") != "pay":
            return self._redirect(session["cancel_url"])
        if session["status"] == "open":
            self.complete_checkout(sid)
        return self._redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", sid))

    def _portal_subscription(self, customer: str) -> dict | None:
        subs = [s for s in self.subscriptions.values()
                if s["customer"] == customer and s["status"] != "canceled"]
        return max(subs, key=lambda s: s["created"]) if subs else None

    @route("GET", r"/p/session/(?P<pid>[^/]+)", auth=False)
    def portal_page(self, req: Request, pid: str) -> Response:
        with self.lock:
            session = self.portal_sessions.get(pid)
            if session is None:
                return self.not_found(req)
            sub = self._portal_subscription(session["customer"])
            invoices = [i for i in self.invoices.values() if i["customer"] == session["customer"]]
        back = html.escape(session["return_url"] or "/")
        if sub is None:
            body = "<p>No active subscription.</p>"
        else:
            price = self._item(sub)["price"]
            rows = "".join(
                f"<button name=price value='{html.escape(p['id'])}'>Switch to "
                f"{html.escape(p['nickname'])} (${p['unit_amount'] / 100:,.2f})</button><br>"
                for p in self.prices.values()
                if p["type"] == "recurring" and p["id"] != price["id"])
            cancel = ("<button name=action value=renew>Don't cancel</button>"
                      if sub["cancel_at_period_end"] else
                      "<button name=action value=cancel>Cancel plan</button>")
            body = (f"<p>Current plan: <strong>{html.escape(price['nickname'])}</strong>"
                    f"{' (cancels at period end)' if sub['cancel_at_period_end'] else ''}</p>"
                    f"<form method=post action='/p/session/{pid}'>{rows}{cancel}</form>")
        body += f"<p>{len(invoices)} invoice(s).</p><p><a href='{back}'>Return to Likeness</a></p>"
        return self._page("Billing portal", body)

    @route("POST", r"/p/session/(?P<pid>[^/]+)", auth=False)
    def portal_submit(self, req: Request, pid: str) -> Response:
        form = decode_form(req.body)
        with self.lock:
            session = self.portal_sessions.get(pid)
            if session is None:
                return self.not_found(req)
            sub = self._portal_subscription(session["customer"])
            if sub is not None:
                if form.get("price") in self.prices:
                    self.change_price(sub["id"], form["price"])
                elif form.get("action") in ("cancel", "renew"):
                    self.cancel_at_period_end(sub["id"], form["action"] == "cancel")
        return self._redirect(f"/p/session/{pid}")
