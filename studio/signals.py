"""What the studio tells the layers above it (they listen; the studio does not know them)."""

from django.dispatch import Signal

# A training run reached a final state (succeeded, failed or canceled); sent on commit.
# kwargs: run.
training_finished = Signal()
