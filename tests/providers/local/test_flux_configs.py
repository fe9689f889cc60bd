"""The full-size FLUX.1 configs the GPU benchmark builds from: built on the meta device (no
memory), they have the parameter counts of the published models."""

import pytest

from providers.local.flux_configs import build_components


@pytest.mark.parametrize(("guidance", "transformer_billions"), [(True, 11.901), (False, 11.891)])
def test_full_size_components_have_the_published_sizes(guidance, transformer_billions):
    parts = build_components(guidance_embeds=guidance, device="meta")
    billions = {name: sum(p.numel() for p in module.parameters()) / 1e9
                for name, module in parts.items()}
    assert billions["transformer"] == pytest.approx(transformer_billions, abs=0.001)
    assert billions["text_encoder_2"] == pytest.approx(4.762, abs=0.001)  # T5-XXL encoder
    assert billions["text_encoder"] == pytest.approx(0.123, abs=0.001)  # CLIP-L text
    assert billions["vae"] == pytest.approx(0.0838, abs=0.0001)
    assert parts["transformer"].config.guidance_embeds is guidance
