"""What generation tells the layers above it (they listen; generation does not know them)."""

from django.dispatch import Signal

# A generation reached a final state (succeeded, partial or failed); sent on commit.
# kwargs: generation.
generation_finished = Signal()
