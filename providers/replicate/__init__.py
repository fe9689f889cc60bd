"""Replicate: LoRA training with ostris/flux-dev-lora-trainer, image generation with the FLUX
models and with trained versions, webhooks signed by Replicate. The official SDK is pointed at
REPLICATE_BASE_URL (tests: fakes/replicate.py). The wire contract, and what the fake holds the
client to, is in docs/providers.md ("Replicate")."""
