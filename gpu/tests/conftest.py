import os
import sys
from typing import Callable

import pytest
import torch

GPU_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if GPU_DIR not in sys.path:
    sys.path.insert(0, GPU_DIR)

from sealgate_gpu.config import LlamaConfig  # noqa: E402
from sealgate_gpu.model import LlamaForCausalLM  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

VOCAB = 101


def tiny_config(**overrides) -> LlamaConfig:
    fields = dict(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        initializer_range=0.1,
    )
    fields.update(overrides)
    return LlamaConfig(**fields)


def tiny_model(seed: int = 0, **overrides) -> LlamaForCausalLM:
    model = LlamaForCausalLM(tiny_config(**overrides))
    model.init_weights(torch.Generator().manual_seed(seed))
    model.set_attention_implementation("eager")
    return model.eval()


@pytest.fixture
def make_model() -> Callable[..., LlamaForCausalLM]:
    return tiny_model


@pytest.fixture(scope="session")
def base_dir(tmp_path_factory) -> str:
    """A saved tiny model folder shared by the tests that only read it."""
    folder = str(tmp_path_factory.mktemp("base"))
    tiny_model(seed=1).save_pretrained(folder)
    return folder
