"""A tiny FLUX.1 pipeline with random weights, built from configs with nothing downloaded.

It is saved in the same layout an operator gets from `hf download black-forest-labs/FLUX.1-…`
(model_index.json and one folder per component, the transformer and the T5 encoder sharded with
an index file, as the real repositories are), so the tests load it through the very code path
that loads the real model. The same seed gives the same weights, byte for byte.
"""

from pathlib import Path

import torch

# Characters the tiny tokenizers know; anything else becomes the unknown token.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
WORDS = ["a", "photo", "of", "the", "in", "on", "with", "person", "man", "woman", "dog", "cat",
         "portrait", "style", "tok", "sks", "ohwx", "red", "blue", "park", "studio", "light"]

TINY_TRANSFORMER = {
    "patch_size": 1, "in_channels": 16, "out_channels": None, "num_layers": 1,
    "num_single_layers": 1, "attention_head_dim": 8, "num_attention_heads": 2,
    "joint_attention_dim": 32, "pooled_projection_dim": 32, "axes_dims_rope": [2, 2, 4],
}
TINY_VAE = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "block_out_channels": [8, 16],
    "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
    "layers_per_block": 1, "norm_num_groups": 4, "sample_size": 32, "use_quant_conv": False,
    "use_post_quant_conv": False, "shift_factor": 0.1159, "scaling_factor": 0.3611,
}
TINY_CLIP = {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
             "num_hidden_layers": 2, "max_position_embeddings": 77, "projection_dim": 32,
             "hidden_act": "quick_gelu"}
TINY_T5 = {"d_model": 32, "d_kv": 8, "d_ff": 37, "num_layers": 2, "num_heads": 4,
           "relative_attention_num_buckets": 8, "relative_attention_max_distance": 32,
           "feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu_new", "is_gated_act": True,
           "tie_word_embeddings": False, "decoder_start_token_id": 0}
# The real repositories' scheduler configs: schnell is not shifted, dev shifts with image size.
SCHEDULERS = {
    "schnell": {"shift": 1.0, "use_dynamic_shifting": False},
    "dev": {"shift": 3.0, "use_dynamic_shifting": True},
}
SCHEDULER_COMMON = {"num_train_timesteps": 1000, "base_image_seq_len": 256,
                    "max_image_seq_len": 4096, "base_shift": 0.5, "max_shift": 1.15}


def clip_tokenizer():
    """CLIP's byte-level BPE with a vocabulary of single characters and a few whole words."""
    from transformers import CLIPTokenizer

    pieces = ["<|startoftext|>", "<|endoftext|>"]
    for char in ALPHABET:
        pieces += [char, char + "</w>"]
    merges = []
    for word in WORDS:
        for end in range(2, len(word) + 1):
            left, right = word[:end - 1], word[end - 1]
            if end == len(word):
                right += "</w>"
            merge = (left, right)
            if merge not in merges:
                merges.append(merge)
            joined = left + right
            if joined not in pieces:
                pieces.append(joined)
    vocab = {piece: index for index, piece in enumerate(pieces)}
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def t5_tokenizer():
    """T5's SentencePiece-style unigram tokenizer over the same small vocabulary."""
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    vocab += [(f"▁{word}", -1.0) for word in WORDS]
    vocab += [(char, -3.0) for char in ALPHABET]
    vocab += [(f"▁{char}", -3.5) for char in ALPHABET]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=512)


def _seeded(seed: int, offset: int, build):
    torch.manual_seed(seed + offset)
    return build()


def build_tiny_pipeline(*, seed: int = 0, guidance_embeds: bool = False):
    """A FluxPipeline whose every component is a few kilobytes; `guidance_embeds=True` makes it
    dev-like (guidance-distilled), False schnell-like."""
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    tokenizer, tokenizer_2 = clip_tokenizer(), t5_tokenizer()
    clip = CLIPTextConfig(vocab_size=len(tokenizer), **TINY_CLIP,
                          bos_token_id=tokenizer.bos_token_id,
                          eos_token_id=tokenizer.eos_token_id,
                          pad_token_id=tokenizer.pad_token_id)
    t5 = T5Config(vocab_size=len(tokenizer_2), **TINY_T5, pad_token_id=tokenizer_2.pad_token_id,
                  eos_token_id=tokenizer_2.eos_token_id)
    variant = "dev" if guidance_embeds else "schnell"
    return FluxPipeline(
        transformer=_seeded(seed, 1, lambda: FluxTransformer2DModel(
            **TINY_TRANSFORMER, guidance_embeds=guidance_embeds)),
        vae=_seeded(seed, 2, lambda: AutoencoderKL(**TINY_VAE)),
        text_encoder=_seeded(seed, 3, lambda: CLIPTextModel(clip)),
        text_encoder_2=_seeded(seed, 4, lambda: T5EncoderModel(t5)),
        tokenizer=tokenizer, tokenizer_2=tokenizer_2,
        scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER_COMMON, **SCHEDULERS[variant]),
    )


def _shard_size(model) -> int:
    """A shard size that splits the model into about three files, as the real repos are split."""
    total = sum(p.numel() * p.element_size() for p in model.state_dict().values())
    largest = max(p.numel() * p.element_size() for p in model.state_dict().values())
    return max(total // 3 + 1, largest + 1)


def save_operator_layout(pipe, directory) -> Path:
    """Save `pipe` as `hf download` lays out FLUX.1: model_index.json, one folder per component,
    the transformer and text_encoder_2 as safetensors shards with an index."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pipe.save_config(directory)  # model_index.json
    sharded = {"transformer", "text_encoder_2"}
    for name in ("transformer", "vae", "text_encoder", "text_encoder_2"):
        component = getattr(pipe, name)
        extra = {"max_shard_size": _shard_size(component)} if name in sharded else {}
        component.save_pretrained(directory / name, safe_serialization=True, **extra)
    for name in ("tokenizer", "tokenizer_2", "scheduler"):
        getattr(pipe, name).save_pretrained(directory / name)
    return directory


def build_tiny_model_dir(directory, *, seed: int = 0, guidance_embeds: bool = False) -> Path:
    """Build the tiny pipeline and save it in the operator layout; returns the directory."""
    return save_operator_layout(build_tiny_pipeline(seed=seed, guidance_embeds=guidance_embeds),
                                directory)
