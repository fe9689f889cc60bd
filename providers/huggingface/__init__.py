"""The Hugging Face Hub: where trained LoRA weights are published, one repository per personal
model, through huggingface_hub at HF_ENDPOINT (tests: fakes/huggingface.py). The wire contract is
in docs/providers.md ("Hugging Face Hub")."""
