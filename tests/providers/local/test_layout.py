"""The tiny model is saved as `hf download` lays out FLUX.1, and the layout check names what is
missing or broken in it."""

import json
import shutil

import pytest
from safetensors.torch import load_file

from providers.local.layout import check_model_dir, label
from providers.local.tiny import build_tiny_model_dir

COMPONENTS = ["scheduler", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2",
              "transformer", "vae"]


def test_the_tiny_model_has_the_operator_layout(tiny_dir):
    index = json.loads((tiny_dir / "model_index.json").read_text())
    assert index["_class_name"] == "FluxPipeline"
    assert sorted(p.name for p in tiny_dir.iterdir() if p.is_dir()) == COMPONENTS
    for folder, weights in (("transformer", "diffusion_pytorch_model"),
                            ("text_encoder_2", "model")):
        index_file = tiny_dir / folder / f"{weights}.safetensors.index.json"
        shards = set(json.loads(index_file.read_text())["weight_map"].values())
        assert len(shards) >= 2 and all((tiny_dir / folder / s).is_file() for s in shards)
    assert (tiny_dir / "vae" / "diffusion_pytorch_model.safetensors").is_file()
    assert (tiny_dir / "text_encoder" / "model.safetensors").is_file()
    assert label(tiny_dir) == "FLUX.1-schnell"


def test_the_same_seed_builds_the_same_weights(tmp_path, tiny_dir):
    again = build_tiny_model_dir(tmp_path / "again", seed=0)
    other = build_tiny_model_dir(tmp_path / "other", seed=1)
    name = "vae/diffusion_pytorch_model.safetensors"
    same, different = load_file(again / name), load_file(other / name)
    original = load_file(tiny_dir / name)
    assert all((original[k] == same[k]).all() for k in original)
    assert any((original[k] != different[k]).any() for k in original)


def test_a_complete_directory_has_no_problems(tiny_dir, tiny_dev_dir):
    assert check_model_dir(tiny_dir) == []
    assert check_model_dir(tiny_dev_dir) == [] and label(tiny_dev_dir) == "FLUX.1-dev"


def _break_index(d):
    (d / "transformer" / "diffusion_pytorch_model.safetensors.index.json").unlink()


def _break_shard(d):
    (d / "text_encoder_2" / "model-00002-of-00003.safetensors").unlink()


def _truncate(d):
    path = d / "vae" / "diffusion_pytorch_model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])


def _lfs_pointer(d):
    (d / "text_encoder" / "model.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 246144152\n")


def _no_tokenizer(d):
    (d / "tokenizer_2" / "tokenizer.json").unlink()


def _unfinished(d):
    cache = d / ".cache" / "huggingface" / "download" / "transformer"
    cache.mkdir(parents=True)
    (cache / "abc.incomplete").write_bytes(b"")


@pytest.mark.parametrize(("damage", "problem"), [
    (_break_index, "FLUX.1-schnell: transformer/diffusion_pytorch_model.safetensors.index.json "
                   "is missing"),
    (_break_shard, "FLUX.1-schnell: text_encoder_2/model-00002-of-00003.safetensors is missing "
                   "(listed in model.safetensors.index.json)"),
    (_truncate, "FLUX.1-schnell: vae/diffusion_pytorch_model.safetensors is truncated"),
    (_lfs_pointer, "FLUX.1-schnell: text_encoder/model.safetensors is a Git LFS pointer"),
    (_no_tokenizer, "FLUX.1-schnell: tokenizer_2/tokenizer.json or tokenizer_2/spiece.model "
                    "is missing"),
    (_unfinished, "FLUX.1-schnell: a download did not finish"),
])
def test_a_damaged_directory_is_reported(tmp_path, tiny_dir, damage, problem):
    copy = shutil.copytree(tiny_dir, tmp_path / "flux-schnell")
    damage(copy)
    problems = check_model_dir(copy)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_missing_directory_or_a_hub_cache_is_reported(tmp_path):
    assert "does not exist" in check_model_dir(tmp_path / "nowhere")[0]
    (tmp_path / "models--black-forest-labs--FLUX.1-schnell").mkdir()
    assert "is a Hugging Face cache" in check_model_dir(tmp_path)[0]
