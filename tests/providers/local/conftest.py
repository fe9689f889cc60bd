"""A tiny FLUX.1 in the operator's layout, a few made-up photos with captions, and a LoRA the
real trainer made from them: built once per session, in seconds, with nothing downloaded."""

import numpy as np
import pytest
from PIL import Image

from providers.local import engine
from providers.local.tiny import build_tiny_model_dir
from providers.local.trainer import train

CAPTION = "a photo of tok person"
# The LoRA the session trains: few steps at a high rate, so its effect shows in 8-bit pixels.
TRAINING = {"steps": 6, "learning_rate": 1e-2, "rank": 4, "resolution": 32, "seed": 1,
            "checkpoint_every": 2}


@pytest.fixture(scope="session")
def tiny_dev_dir(tmp_path_factory):
    return build_tiny_model_dir(tmp_path_factory.mktemp("models") / "flux-dev", seed=0,
                                guidance_embeds=True)


@pytest.fixture(scope="session")
def photos_dir(tmp_path_factory):
    """Three 64 px "photos" of one subject (a coloured figure on a background) with captions,
    as studio packs them: NN.jpg + NN.txt."""
    directory = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for number in range(1, 4):
        pixels = np.empty((64, 64, 3), np.uint8)
        pixels[...] = rng.integers(0, 255, 3)
        pixels[12:52, 18 + number:46 + number] = (200, 120, 90)
        Image.fromarray(pixels).save(directory / f"{number:02d}.jpg", quality=95)
        (directory / f"{number:02d}.txt").write_text(CAPTION)
    return directory


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_dir, photos_dir):
    """(result, output_dir, progress calls) of one real training run on the tiny model."""
    output = tmp_path_factory.mktemp("training")
    calls = []
    result = train(photos_dir, output, base_model_dir=tiny_dir,
                   on_progress=lambda *args: calls.append(args), **TRAINING)
    return result, output, calls


@pytest.fixture
def pipe(tiny_dir):
    pipe = engine.load_pipeline(tiny_dir, "cpu-fp32")
    yield pipe
    engine.unload_adapters(pipe)
