"""Together AI: FLUX image generation through the official `together` SDK at TOGETHER_BASE_URL
(tests: fakes/together.py). The wire contract is in docs/providers.md ("Together AI")."""
