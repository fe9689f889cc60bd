"""Cloudflare Images: an optional delivery backend for generated images (tests:
fakes/cloudflare_images.py). The wire contract is in docs/providers.md ("Cloudflare")."""
