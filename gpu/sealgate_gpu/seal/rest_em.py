"""ReST-EM over self-edits (SEAL's outer loop).

One round, from the current generator (the model with the rounds so far on its adapter stack):
  E-step  per train passage, sample k implications; train and measure each (a trial, one training seed for all
          k); the reward is closed-book accuracy on the passage's questions after the update minus before;
  M-step  keep per passage the best self-edit when its reward is positive (ties go to the self-edit after which
          the reference answers are most likely), and fine-tune a LoRA on
          (prompt -> kept self-edit), the loss on the self-edit only; it goes on top of the stack.
Each round's rollouts and generator adapter are saved, so a stopped run resumes at the first missing round. The
generator adapter is a PEFT folder: it is proposed to a channel like any other change.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence

from ..lora import ADAPTER_CONFIG_NAME, LoraAdapter, LoraConfig
from ..training import TrainParams, train_lora
from .common import Checkpoint, Setup
from .self_edits import Passage, edit_sequences, generate_self_edits, generator_sequences
from .trials import Trial, closed_book_accuracy, run_trials

# The M-step: a LoRA on every projection of the generator, trained on the kept (prompt, self-edit) pairs.
GENERATOR_UPDATE = TrainParams(
    lora=LoraConfig(r=16, lora_alpha=32.0, target_modules=[
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
    lr=1e-3, epochs=3, batch_size=8, seed=0,
)
FAMILY = "implications"


@dataclass
class RestEmSettings:
    k: int
    seed: int
    group_size: int


class RestEm:
    def __init__(
        self,
        setup: Setup,
        passages: Sequence[Passage],
        settings: RestEmSettings,
        inner_update: TrainParams,
        folder: str,
        progress: Callable[..., None],
    ) -> None:
        self.s = setup
        self.settings = settings
        self.inner_update = inner_update
        self.folder = folder
        self.progress = progress
        self.passages = list(passages)
        self.ckpt = Checkpoint(folder, {"passages": [p.id for p in self.passages], "k": settings.k,
                                        "seed": settings.seed})

    def generator_folder(self, r: int) -> str:
        return os.path.join(self.folder, f"round-{r}", "generator")

    def round(self, r: int) -> Dict[str, Any]:
        """Run round r (or load it when saved) and push its generator adapter onto the stack."""
        summary = self.ckpt.get(f"round-{r}")
        folder = self.generator_folder(r)
        if summary is None or not os.path.isfile(os.path.join(folder, ADAPTER_CONFIG_NAME)):
            summary = self._run(r, folder)
            self.ckpt.put(f"round-{r}", summary)
        self.s.stack.push(LoraAdapter.load(folder), name=f"rest-em-{r}")
        return summary

    def rollouts(self, r: int) -> Dict[str, Any]:
        """Round r's E-step on the current generator, saved on its own so a crash in the M-step keeps it:
        per passage the accuracy before, the k sampled self-edits and each one's reward."""
        saved = self.ckpt.get(f"round-{r}-rollouts")
        if saved is not None:
            return saved
        s, tok, k = self.s, self.s.tok, self.settings.k
        self.progress(f"ReST-EM round {r}: sampling {k} self-edits for {len(self.passages)} passages")
        before = closed_book_accuracy(s.model, s.stack, tok, self.passages)
        edits = generate_self_edits(s.model, tok, FAMILY, self.passages, k, seed=self.settings.seed + 100 * r)
        # One training seed for the k self-edits of a passage, so their rewards differ by what they say, not by
        # the luck of initialisation and shuffling (common random numbers).
        trials = [Trial(p, edit_sequences(tok, FAMILY, p, e), seed=0)
                  for p, es in zip(self.passages, edits) for e in es]
        results = run_trials(s.model, s.stack, tok, trials, self.inner_update, self.settings.group_size,
                             on_progress=lambda d, n: self.progress(f"ReST-EM round {r} trials", d, n))
        rewards = [[results[i * k + j].accuracy - before[i] for j in range(k)] for i in range(len(self.passages))]
        answer_nll = [[results[i * k + j].answer_nll for j in range(k)] for i in range(len(self.passages))]
        return self.ckpt.put(f"round-{r}-rollouts",
                             {"before": before, "edits": edits, "rewards": rewards, "answerNll": answer_nll})

    def _run(self, r: int, folder: str) -> Dict[str, Any]:
        s, tok, k = self.s, self.s.tok, self.settings.k
        rollouts = self.rollouts(r)
        kept: List[Any] = []
        for p, es, gains, nll in zip(self.passages, rollouts["edits"], rollouts["rewards"], rollouts["answerNll"]):
            # The best reward; among equal rewards (common with a passage's few questions), the self-edit after
            # which the reference answers are most likely.
            best = max(range(k), key=lambda j: (gains[j], -nll[j]))
            if gains[best] > 0:
                kept.append((p, es[best], gains[best]))
        if not kept:
            raise RuntimeError(f"ReST-EM round {r}: no self-edit improved any passage; nothing to learn from")
        self.progress(f"ReST-EM round {r}: fine-tuning the generator on {len(kept)} kept self-edits")
        sequences = [generator_sequences(tok, FAMILY, p, e) for p, e, _ in kept]
        trained = train_lora(s.model, s.stack, sequences, GENERATOR_UPDATE)
        trained.adapter.save(folder, metadata={"sealgate.rest_em_round": str(r)})
        rewards = [g for gains in rollouts["rewards"] for g in gains]
        return {
            "round": r,
            "passages": len(self.passages),
            "k": k,
            "meanReward": sum(rewards) / len(rewards),
            "meanBestReward": sum(max(gains) for gains in rollouts["rewards"]) / len(self.passages),
            "kept": len(kept),
            "generatorLoss": trained.loss_curve[-1] if trained.loss_curve else None,
            # What the generator was fine-tuned to write: the gateway screens these like any self-edit.
            "keptSelfEdits": [{"passageId": p.id, "text": e, "reward": g} for p, e, g in kept],
        }
