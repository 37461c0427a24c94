"""ONNX export: the graph has the KV-cache and per-module LoRA inputs the gateway feeds (its numerical parity
with PyTorch is tested on the TypeScript side, with onnxruntime-node, in test/inference/onnx-parity)."""
import os

import pytest
import torch

from sealgate_gpu.onnx_export import OnnxLlama, example_inputs, export_onnx, input_names


def cache_buffer(past: torch.Tensor, capacity: int, at: int) -> torch.Tensor:
    """``past`` [B, H, P, D] in columns at .. at+P of a zero buffer of ``capacity`` columns."""
    b, h, p, d = past.shape
    buf = torch.zeros(b, h, capacity, d)
    buf[:, :, at:at + p] = past
    return buf


@pytest.mark.parametrize("with_lora", [False, True])
def test_the_wrapper_matches_the_model_over_a_masked_cache_buffer(make_model, with_lora):
    """A prefix of P tokens sits in a cache buffer with masked zero columns before and after it; the wrapper's
    logits and new keys/values for the next T tokens are the model's on the whole sequence."""
    model = make_model(seed=3)  # grouped-query attention: 4 heads, 2 KV heads
    n_layers, P, T = model.config.num_hidden_layers, 4, 3
    gen = torch.Generator().manual_seed(0)
    full = example_inputs(model, batch=2, seq=P + T, past=0, rank=2, generator=gen)
    ids, loras = full[0], full[3 + 2 * n_layers:]
    if not with_lora:
        loras = [torch.zeros_like(t) for t in loras]
    wrapper = OnnxLlama(model)
    for j, layer in enumerate(wrapper.lora_layers):
        layer.a, layer.b = loras[2 * j], loras[2 * j + 1]
    with torch.no_grad():
        # The reference: the model itself (LoRA layers set, attention bypassing the split) on all P + T tokens.
        for layer in model.model.layers:
            layer.self_attn, split = layer.self_attn.attn, layer.self_attn
            layer.split = split
        ref = model(ids, use_cache=True)
        prefix = model(ids[:, :P], use_cache=True).past_key_values
        for layer in model.model.layers:
            layer.self_attn = layer.split
            del layer.split
        capacity, at = P + 5, 2  # two masked columns before the prefix, three unused after it
        mask = torch.zeros(2, capacity + T, dtype=torch.long)
        mask[:, at:at + P] = 1
        mask[:, capacity:] = 1
        past = [cache_buffer(t, capacity, at) for kv in prefix for t in kv]
        pos = torch.arange(P, P + T).expand(2, T)
        out = wrapper(ids[:, P:], mask, pos, *past, *loras)
    assert torch.allclose(out[0], ref.logits[:, P:], atol=1e-5)
    for i, (k, v) in enumerate(ref.past_key_values):
        assert out[1 + 2 * i].shape == (2, model.config.n_kv_heads, T, model.config.dim_head)
        assert torch.allclose(out[1 + 2 * i], k[:, :, P:], atol=1e-5)
        assert torch.allclose(out[2 + 2 * i], v[:, :, P:], atol=1e-5)


def test_lora_inputs_change_the_output(make_model):
    model = make_model(seed=3)
    inputs = example_inputs(model, batch=2, seq=3, past=1, rank=2, generator=torch.Generator().manual_seed(0))
    n_lora = 2 * 7 * model.config.num_hidden_layers
    zero_lora = [torch.zeros_like(t) for t in inputs[-n_lora:]]
    with torch.no_grad():
        wrapper = OnnxLlama(model)
        without = wrapper(*inputs[:-n_lora], *zero_lora)[0]
        with_lora = wrapper(*inputs)[0]
    assert not torch.allclose(without, with_lora, atol=1e-3)


def test_export_writes_a_graph_with_cache_and_lora_inputs_and_new_key_value_outputs(make_model, tmp_path):
    model = make_model(seed=4, tie_word_embeddings=True)
    path = str(tmp_path / "model.onnx")
    export_onnx(model, path)
    data = open(path, "rb").read()
    inputs, outputs, lora = input_names(model.config.num_hidden_layers)
    assert len(lora) == 2 * 7 * model.config.num_hidden_layers
    for name in inputs + outputs:
        assert name.encode() in data
    assert b"present." not in data
    assert b"rank_0_q_proj" in data  # each module's rank is its own dimension
    assert os.path.getsize(path) > 0


def test_the_graph_only_reads_the_past_cache(make_model):
    """No op copies the cache (a concat with the new tokens, or a repeat for grouped-query heads): the past
    feeds only products and shape reads."""
    model = make_model(seed=4)
    wrapper = OnnxLlama(model)
    args = example_inputs(model, batch=2, seq=1, past=3, rank=1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        graph = torch.jit.trace(wrapper, tuple(args), check_trace=False).inlined_graph
    graph_inputs = list(graph.inputs())[1:]  # after self
    past = {v.debugName() for v in graph_inputs[3:3 + 2 * model.config.num_hidden_layers]}
    consumers = {n.kind() for n in graph.nodes() if past & {v.debugName() for v in n.inputs()}}
    assert consumers and consumers <= {"aten::transpose", "aten::matmul", "aten::size"}
