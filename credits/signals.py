"""What the ledger tells the layers above it (they listen; the ledger does not know them)."""

from django.dispatch import Signal

# After every committed credit movement: kwargs user, old, new (balances).
balance_changed = Signal()
