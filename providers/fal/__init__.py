"""fal.ai: LoRA training with fal-ai/flux-lora-fast-training and image generation with
fal-ai/flux-lora, both through fal's queue API. fal's SDK hard-codes its hosts, so the seam is
likeness.http with FAL_QUEUE_URL (tests: fakes/fal.py). The wire contract is in
docs/providers.md ("fal.ai")."""
