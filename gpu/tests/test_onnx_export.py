"""ONNX export: the graph has the KV-cache and per-module LoRA inputs the gateway feeds (its numerical parity
with PyTorch is tested on the TypeScript side, with onnxruntime-node, in test/inference/onnx-parity)."""
import os

import torch

from sealgate_gpu.onnx_export import OnnxLlama, example_inputs, export_onnx, input_names


def test_the_wrapper_matches_the_model_with_and_without_lora(make_model):
    model = make_model(seed=3)  # grouped-query attention: 4 heads, 2 KV heads
    inputs = example_inputs(model, batch=2, seq=3, past=0, rank=2, generator=torch.Generator().manual_seed(0))
    n_lora = 2 * 7 * model.config.num_hidden_layers
    zero_lora = [torch.zeros_like(t) for t in inputs[-n_lora:]]
    with torch.no_grad():
        plain = model(inputs[0], attention_mask=inputs[1], position_ids=inputs[2]).logits
        wrapper = OnnxLlama(model)
        without = wrapper(*inputs[:-n_lora], *zero_lora)[0]
        with_lora = wrapper(*inputs)[0]
    assert torch.allclose(plain, without, atol=1e-6)
    assert not torch.allclose(plain, with_lora, atol=1e-3)


def test_export_writes_a_graph_with_cache_and_lora_inputs(make_model, tmp_path):
    model = make_model(seed=4, tie_word_embeddings=True)
    path = str(tmp_path / "model.onnx")
    export_onnx(model, path)
    data = open(path, "rb").read()
    inputs, outputs, lora = input_names(model.config.num_hidden_layers)
    assert len(lora) == 2 * 7 * model.config.num_hidden_layers
    for name in inputs + outputs:
        assert name.encode() in data
    assert b"rank_0_q_proj" in data  # each module's rank is its own dimension
    assert os.path.getsize(path) > 0
