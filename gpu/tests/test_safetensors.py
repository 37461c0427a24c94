import json
import struct

import pytest
import torch

from sealgate_gpu.safetensors_io import SafetensorsError, load_file, load_metadata, read_header, save_file


def test_round_trip_all_dtypes(tmp_path):
    g = torch.Generator().manual_seed(0)
    tensors = {
        "f32": torch.randn(3, 5, generator=g),
        "f16": torch.randn(4, generator=g).half(),
        "bf16": torch.randn(2, 3, 4, generator=g).to(torch.bfloat16),
        "f64": torch.randn(2, generator=g).double(),
        "i64": torch.tensor([[-(2 ** 40), 7], [0, 2 ** 62]], dtype=torch.int64),
        "i32": torch.tensor([1, -2, 3], dtype=torch.int32),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 7),
        "strided": torch.arange(12.0).view(3, 4).t(),  # non-contiguous input
    }
    path = str(tmp_path / "t.safetensors")
    save_file(tensors, path, metadata={"format": "pt", "note": "x"})
    back = load_file(path)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        assert torch.equal(back[k], v), k
    assert load_metadata(path) == {"format": "pt", "note": "x"}
    assert set(load_file(path, names=["bf16"])) == {"bf16"}


def test_layout_follows_the_spec(tmp_path):
    path = str(tmp_path / "t.safetensors")
    save_file({"b": torch.tensor([1.0, 2.0]), "a": torch.tensor([3], dtype=torch.int64)}, path)
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["a"] == {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}
    assert header["b"] == {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}
    data = raw[8 + n:]
    assert struct.unpack("<q", data[0:8]) == (3,)
    assert struct.unpack("<2f", data[8:16]) == (1.0, 2.0)


def _write_raw(path, header, data: bytes) -> None:
    hb = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + data)


def test_reads_a_hand_built_file(tmp_path):
    path = str(tmp_path / "h.safetensors")
    bf16_one = struct.pack("<H", 0x3F80)  # 1.0 in bfloat16
    f16_two = struct.pack("<e", 2.0)
    _write_raw(path, {
        "__metadata__": {"format": "pt"},
        "x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]},
        "y": {"dtype": "F16", "shape": [1], "data_offsets": [2, 4]},
    }, bf16_one + f16_two)
    t = load_file(path)
    assert t["x"].item() == 1.0 and t["x"].dtype == torch.bfloat16
    assert t["y"].item() == 2.0 and t["y"].dtype == torch.float16
    header, meta = read_header(path)
    assert meta == {"format": "pt"} and set(header) == {"x", "y"}


@pytest.mark.parametrize("entry,data", [
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}, b"\0" * 8),      # size mismatch
    ({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, b"\0" * 2),      # past the end
    ({"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}, b"\0"),           # unknown dtype
    ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, b"\0" * 4),     # bad shape
])
def test_rejects_invalid_files(tmp_path, entry, data):
    path = str(tmp_path / "bad.safetensors")
    _write_raw(path, {"x": entry}, data)
    with pytest.raises(SafetensorsError):
        load_file(path)


def test_rejects_overlap_and_garbage(tmp_path):
    path = str(tmp_path / "o.safetensors")
    _write_raw(path, {
        "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "y": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
    }, b"\0" * 8)
    with pytest.raises(SafetensorsError, match="overlap"):
        load_file(path)
    (tmp_path / "g.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(SafetensorsError):
        load_file(str(tmp_path / "g.safetensors"))
