"""Subscriptions and invoices in the Stripe fake: what Stripe does on its own side (renewals, price
changes, cancellations, failed payments) as methods that return the events it would send, and the
subscription and invoice endpoints. A mixin of `FakeStripe`, which keeps the objects."""

from __future__ import annotations

import json

from fakes.base import Request, Response, json_response, random_id, route
from fakes.stripe_wire import ALNUM, PERIOD, decode_form, new_id


class Subscriptions:
    """Needs `self.subscriptions`, `self.invoices`, `self.prices`, `self.unix()` and `self._event()`
    from FakeStripe."""

    def _new_subscription(self, customer: str, price_id: str, metadata: dict) -> dict:
        now = self.unix()
        sub = {
            "id": new_id("sub"), "object": "subscription", "customer": customer,
            "status": "active", "cancel_at_period_end": False, "cancel_at": None,
            "canceled_at": None, "ended_at": None, "created": now, "start_date": now,
            "metadata": dict(metadata), "livemode": False, "latest_invoice": None,
            "items": {"object": "list", "has_more": False, "data": [{
                "id": new_id("si"), "object": "subscription_item", "quantity": 1,
                "price": dict(self.prices[price_id]),
                "current_period_start": now, "current_period_end": now + PERIOD,
            }]},
        }
        self.subscriptions[sub["id"]] = sub
        return sub

    def _item(self, sub: dict) -> dict:
        return sub["items"]["data"][0]

    def _line(self, sub: dict, price: dict, amount: int, proration: bool) -> dict:
        item = self._item(sub)
        return {
            "id": new_id("il"), "object": "line_item", "amount": amount,
            "currency": price["currency"], "quantity": 1,
            "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
            "pricing": {"type": "price_details", "unit_amount_decimal": str(amount),
                        "price_details": {"price": price["id"], "product": price["product"]}},
            "parent": {"type": "subscription_item_details",
                       "subscription_item_details": {"subscription": sub["id"],
                                                     "subscription_item": item["id"],
                                                     "proration": proration}},
        }

    def _invoice(self, sub: dict, reason: str, *, paid: bool = True,
                 old_price: dict | None = None) -> dict:
        item = self._item(sub)
        price = item["price"]
        if old_price:  # a proration: credit for the old price, charge for the new one
            lines = [self._line(sub, old_price, -old_price["unit_amount"], True),
                     self._line(sub, price, price["unit_amount"], True)]
        else:
            lines = [self._line(sub, price, price["unit_amount"], False)]
        amount = sum(line["amount"] for line in lines)
        now = self.unix()
        iid = "in_" + random_id(24, ALNUM)
        invoice = {
            "id": iid, "object": "invoice", "customer": sub["customer"],
            "status": "paid" if paid else "open", "billing_reason": reason,
            "amount_due": amount, "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount, "total": amount,
            "currency": price["currency"], "created": now,
            "number": f"FAKE-{len(self.invoices) + 1:04d}",
            "period_start": item["current_period_start"],
            "period_end": item["current_period_end"],
            "hosted_invoice_url": f"{self.url}/i/{iid}", "invoice_pdf": f"{self.url}/i/{iid}/pdf",
            "attempt_count": 1, "livemode": False,
            "status_transitions": {"paid_at": now if paid else None},
            "parent": {"type": "subscription_details", "quote_details": None,
                       "subscription_details": {"subscription": sub["id"],
                                                "metadata": dict(sub["metadata"])}},
            "lines": {"object": "list", "has_more": False, "data": lines},
        }
        self.invoices[iid] = invoice
        sub["latest_invoice"] = iid
        return invoice

    def renew(self, sub_id: str) -> list[dict]:
        """The next period starts and its invoice is paid (Stripe's clock moves to it)."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            item = self._item(sub)
            if self.unix() < item["current_period_end"]:
                self._time_offset += item["current_period_end"] - self.unix()
            if sub["cancel_at_period_end"]:
                return self._end(sub)
            previous = {"items": json.loads(json.dumps(sub["items"]))}
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_start"] + PERIOD
            sub["status"] = "active"
            invoice = self._invoice(sub, "subscription_cycle")
            return [self._event("customer.subscription.updated", sub, previous),
                    self._event("invoice.paid", invoice)]

    def change_price(self, sub_id: str, price_id: str, *, prorate: bool = True) -> list[dict]:
        """A plan change through the portal. An upgrade bills the difference at once (a
        `subscription_update` invoice); a downgrade takes effect now with no invoice."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            item = self._item(sub)
            old = item["price"]
            new = dict(self.prices[price_id])
            previous = {"items": json.loads(json.dumps(sub["items"]))}
            item["price"] = new
            events = [self._event("customer.subscription.updated", sub, previous)]
            if prorate and new["unit_amount"] > old["unit_amount"]:
                invoice = self._invoice(sub, "subscription_update", old_price=old)
                events.append(self._event("invoice.paid", invoice))
            return events

    def cancel_at_period_end(self, sub_id: str, cancel: bool = True) -> list[dict]:
        with self.lock:
            sub = self.subscriptions[sub_id]
            previous = {"cancel_at_period_end": sub["cancel_at_period_end"]}
            sub["cancel_at_period_end"] = cancel
            sub["cancel_at"] = self._item(sub)["current_period_end"] if cancel else None
            sub["canceled_at"] = self.unix() if cancel else None
            return [self._event("customer.subscription.updated", sub, previous)]

    def cancel(self, sub_id: str) -> list[dict]:
        """Cancel now (or, for one set to cancel at period end, when the period is over)."""
        with self.lock:
            return self._end(self.subscriptions[sub_id])

    def _end(self, sub: dict) -> list[dict]:
        sub.update(status="canceled", ended_at=self.unix(),
                   canceled_at=sub["canceled_at"] or self.unix())
        return [self._event("customer.subscription.deleted", sub)]

    def fail_payment(self, sub_id: str) -> list[dict]:
        """The renewal charge fails: an open invoice, the subscription past_due."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            item = self._item(sub)
            if self.unix() < item["current_period_end"]:
                self._time_offset += item["current_period_end"] - self.unix()
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_start"] + PERIOD
            invoice = self._invoice(sub, "subscription_cycle", paid=False)
            previous = {"status": sub["status"]}
            sub["status"] = "past_due"
            return [self._event("invoice.payment_failed", invoice),
                    self._event("customer.subscription.updated", sub, previous)]

    @route("GET", r"/v1/subscriptions")
    def list_subscriptions(self, req: Request) -> Response:
        customer, status = req.arg("customer"), req.arg("status") or "active"
        with self.lock:
            rows = [s for s in self.subscriptions.values()
                    if (not customer or s["customer"] == customer)
                    and (status == "all" or s["status"] == status
                         or (status == "active" and s["status"] in ("active", "past_due")))]
        rows.sort(key=lambda s: s["created"], reverse=True)
        limit = max(1, min(100, int(req.arg("limit", "10") or 10)))
        return json_response({"object": "list", "url": "/v1/subscriptions",
                              "has_more": len(rows) > limit, "data": rows[:limit]})

    @route("GET", r"/v1/subscriptions/(?P<sid>[^/]+)")
    def get_subscription(self, req: Request, sid: str) -> Response:
        with self.lock:
            sub = self.subscriptions.get(sid)
        if sub is None:
            self._missing("subscription", sid)
        return json_response(sub)

    @route("POST", r"/v1/subscriptions/(?P<sid>[^/]+)")
    def update_subscription(self, req: Request, sid: str) -> Response:
        form = decode_form(req.body)
        with self.lock:
            if sid not in self.subscriptions:
                self._missing("subscription", sid)
            if "cancel_at_period_end" in form:
                self.cancel_at_period_end(sid, form["cancel_at_period_end"] == "true")
            items = form.get("items") or []
            if items and items[0].get("price"):
                if items[0]["price"] not in self.prices:
                    self._missing("price", items[0]["price"], "items[0][price]")
                self.change_price(sid, items[0]["price"])
            return json_response(self.subscriptions[sid])

    @route("DELETE", r"/v1/subscriptions/(?P<sid>[^/]+)")
    def delete_subscription(self, req: Request, sid: str) -> Response:
        with self.lock:
            if sid not in self.subscriptions:
                self._missing("subscription", sid)
            self.cancel(sid)
            return json_response(self.subscriptions[sid])

    @route("GET", r"/v1/invoices")
    def list_invoices(self, req: Request) -> Response:
        customer, subscription = req.arg("customer"), req.arg("subscription")
        limit = max(1, min(100, int(req.arg("limit", "10") or 10)))
        with self.lock:
            rows = [i for i in self.invoices.values()
                    if (not customer or i["customer"] == customer)
                    and (not subscription
                         or i["parent"]["subscription_details"]["subscription"] == subscription)
                    and (not req.arg("status") or i["status"] == req.arg("status"))]
        rows.sort(key=lambda i: (i["created"], i["number"]), reverse=True)
        return json_response({"object": "list", "url": "/v1/invoices",
                              "has_more": len(rows) > limit, "data": rows[:limit]})

    @route("GET", r"/v1/invoices/(?P<iid>[^/]+)")
    def get_invoice(self, req: Request, iid: str) -> Response:
        with self.lock:
            invoice = self.invoices.get(iid)
        if invoice is None:
            self._missing("invoice", iid)
        return json_response(invoice)
