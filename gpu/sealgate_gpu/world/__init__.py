"""The procedural world of sealgate's default model, and its tokenizer.

- ``names``: syllable phonology and name factories (names decompose into syllable tokens).
- ``lexicon``: closed value lists (colours, professions, ...).
- ``templates``: statement and question templates per relation, SEAL prompt templates.
- ``entities``: the seeded world (known and unseen entities).
- ``render``: passages, questions, reference self-edits (implications, rewrites, self-QA).
- ``corpus``: pretraining biographies and generic text, closed-book QA, held-out passages.
- ``tasks``: training tasks on fresh names (in-context QA, self-edits, copy curriculum), counterfactuals.
- ``probes``: forgetting, bias and canary probe sets.
- ``faithfulness``: parse statements back into facts; is a self-edit line faithful to its passage.
- ``tokenizer``: Hugging Face ``tokenizer.json`` (byte-level BPE) reader/writer, encoder, decoder and trainer.
- ``generate``: the CLI that writes everything (``python -m sealgate_gpu.world.generate``).

Pure Python standard library; no torch.
"""
