"""Stripe: subscriptions, credit packs, the customer portal and signed webhooks, through
stripe-python at STRIPE_API_BASE (tests: fakes/stripe.py). The wire contract is in
docs/providers.md ("Stripe")."""
