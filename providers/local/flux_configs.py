"""The configs of the real FLUX.1 components (as in the black-forest-labs repositories'
config.json files), so a full-size model with random weights can be built where nothing can be
downloaded: the GPU benchmark's `--random-weights`. Random weights make noise, not pictures, but
they take the same memory and the same time per step as the real ones."""

import torch

TRANSFORMER = {"patch_size": 1, "in_channels": 64, "num_layers": 19, "num_single_layers": 38,
               "attention_head_dim": 128, "num_attention_heads": 24,
               "joint_attention_dim": 4096, "pooled_projection_dim": 768,
               "axes_dims_rope": [16, 56, 56]}  # + guidance_embeds: True for dev
T5_XXL = {"vocab_size": 32128, "d_model": 4096, "d_kv": 64, "d_ff": 10240, "num_layers": 24,
          "num_decoder_layers": 24, "num_heads": 64, "relative_attention_num_buckets": 32,
          "relative_attention_max_distance": 128, "feed_forward_proj": "gated-gelu",
          "dense_act_fn": "gelu_new", "is_gated_act": True, "layer_norm_epsilon": 1e-6,
          "tie_word_embeddings": False, "pad_token_id": 0, "eos_token_id": 1,
          "decoder_start_token_id": 0}
CLIP_L = {"vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072,
          "num_attention_heads": 12, "num_hidden_layers": 12, "max_position_embeddings": 77,
          "hidden_act": "quick_gelu", "projection_dim": 768, "layer_norm_eps": 1e-5,
          "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1}
VAE = {"in_channels": 3, "out_channels": 3, "latent_channels": 16,
       "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2,
       "down_block_types": ["DownEncoderBlock2D"] * 4,
       "up_block_types": ["UpDecoderBlock2D"] * 4, "norm_num_groups": 32, "sample_size": 1024,
       "act_fn": "silu", "mid_block_add_attention": True, "force_upcast": True,
       "use_quant_conv": False, "use_post_quant_conv": False, "shift_factor": 0.1159,
       "scaling_factor": 0.3611}


def build_components(*, guidance_embeds: bool, device="cpu", dtype=torch.bfloat16) -> dict:
    """FLUX.1's transformer, VAE and both text encoders at full size with random weights,
    created directly on `device` in `dtype` (on the meta device they take no memory at all)."""
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return {
                "transformer": FluxTransformer2DModel(**TRANSFORMER,
                                                      guidance_embeds=guidance_embeds),
                "vae": AutoencoderKL(**VAE),
                "text_encoder": CLIPTextModel(CLIPTextConfig(**CLIP_L)),
                "text_encoder_2": T5EncoderModel(T5Config(**T5_XXL)),
            }
    finally:
        torch.set_default_dtype(previous)


def build_full_size_pipeline(*, guidance_embeds: bool, device="cpu", dtype=torch.bfloat16,
                             seed: int = 0):
    """A FluxPipeline of full-size random components and the tiny tokenizers (their ids fall
    inside the real vocabularies, and prompts are padded to the same lengths)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline

    from providers.local.tiny import SCHEDULER_COMMON, SCHEDULERS, clip_tokenizer, t5_tokenizer

    torch.manual_seed(seed)
    components = build_components(guidance_embeds=guidance_embeds, device=device, dtype=dtype)
    variant = "dev" if guidance_embeds else "schnell"
    return FluxPipeline(**components, tokenizer=clip_tokenizer(), tokenizer_2=t5_tokenizer(),
                        scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER_COMMON,
                                                                  **SCHEDULERS[variant]))
