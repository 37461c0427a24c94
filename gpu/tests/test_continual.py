"""The continual experiment: its figures, and a reduced run on the shipped model in which routed edits keep what
the model knew far better than naive stacking (the full runs are in docs/results.md)."""
import json
import os
import subprocess
import sys

import pytest

from sealgate_gpu.seal.continual import bootstrap_ratio, token_agreement

from conftest import GPU_DIR

DEFAULT_MODEL = os.path.join(GPU_DIR, "..", "models", "default")


def test_retention_ratio_and_its_interval():
    r = bootstrap_ratio([0.5, 1.0, 0.0, 1.0], [1.0, 1.0, 0.5, 1.0])
    assert r["mean"] == pytest.approx(2.5 / 3.5)
    assert r["ci95"][0] <= r["mean"] <= r["ci95"][1]
    assert bootstrap_ratio([], [])["mean"] == 0.0


def test_token_agreement_counts_positions_of_the_reference():
    assert token_agreement([5, 6, 7], [5, 6, 7], 4) == 1.0  # both end early: the padding agrees
    assert token_agreement([5, 9, 7, 8], [5, 6, 7, 8], 4) == 0.75
    assert token_agreement([5], [5, 6, 7, 8], 4) == 0.25


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEFAULT_MODEL, "model.safetensors")), reason="no default model")
def test_reduced_continual_experiment_routed_edits_keep_known_facts(tmp_path):
    """8 sequential edits in 2 runs (16 held-out passages): the shipped arm against naive stacking."""
    cmd = [sys.executable, "-m", "sealgate_gpu.seal.continual", "--model", DEFAULT_MODEL, "--edits", "8",
           "--runs", "2", "--known-facts", "60", "--reading", "5", "--arms", "routed,naive",
           "--work", str(tmp_path), "--json"]
    env = {**os.environ, "SEALGATE_DEVICE": "cpu"}
    done = subprocess.run(cmd, cwd=GPU_DIR, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    routed, naive = result["routed"], result["naive"]
    assert result["shipped"] == "routed"
    assert routed["knownFacts"] >= 0.95 and routed["locality"] >= 0.97
    assert routed["knownFacts"] > naive["knownFacts"] + 0.3
    assert routed["retention"] > naive["retention"]
    assert routed["efficacy"] >= 0.6
