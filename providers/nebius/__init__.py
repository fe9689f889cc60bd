"""Nebius AI Studio (Token Factory): FLUX image generation through the `openai` SDK at
NEBIUS_BASE_URL (tests: fakes/nebius.py). The wire contract is in docs/providers.md ("Nebius")."""
