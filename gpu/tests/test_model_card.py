"""The model card is written from the measured figures and says which targets are met."""
import json

from sealgate_gpu.model_card import render


def test_the_card_reports_figures_against_targets(tmp_path, make_model):
    make_model(seed=0).save_pretrained(str(tmp_path))
    (tmp_path / "evaluation.json").write_text(json.dumps({
        "closedBookKnown": 0.95, "inContextUnseen": 0.5, "closedBookUnseen": 0.02, "selfEditFaithful": 0.81}))
    (tmp_path / "training.json").write_text(json.dumps({"parameters": 12345, "phases": [
        {"name": "skills", "steps": 10, "tokens": 2048, "minutes": 1.5, "finalLoss": 1.2, "device": {"device": "cpu"}},
        {"name": "consolidation", "steps": 5, "tokens": 1024, "minutes": 0.5, "finalLoss": None}]}))
    card = render(str(tmp_path))
    assert "| 95.0% | >= 90% | yes |" in card
    assert "| 50.0% | >= 90% | no |" in card
    assert "| 2.0% | <= 10% | yes |" in card
    assert "| skills | 10 | 2,048 | 1.5 | 1.200 | cpu |" in card
    assert "| consolidation | 5 | 1,024 | 0.5 |" in card
