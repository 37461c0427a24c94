"""Charts of the SEAL experiments (matplotlib, PNG) and their tables in Markdown, from the experiments' JSON.

Run from gpu/: python3 -m sealgate_gpu.seal.plots --knowledge K.json --continual C.json --cost X.json --out DIR
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "base": "base (no update)",
    "passage": "passage only",
    "selfEdit": "passage + self-edits",
    "rewrite": "passage + rewrites",
    "selfQa": "passage + self-QA",
    "seal1": "SEAL, 1 ReST-EM round",
    "seal2": "SEAL, 2 ReST-EM rounds",
}

# Rows of the table only: the model after ReST-EM rounds, before any update on the evaluation passage.
BASE_AFTER_ROUND = {f"seal{r}Base": f"model after {r} ReST-EM round(s), no update" for r in range(1, 6)}


def knowledge_chart(result: Dict[str, Any], path: str) -> None:
    names = [n for n in LABELS if n in result["conditions"]]
    means = [result["conditions"][n]["mean"] * 100 for n in names]
    lo = [m - result["conditions"][n]["ci95"][0] * 100 for m, n in zip(means, names)]
    hi = [result["conditions"][n]["ci95"][1] * 100 - m for m, n in zip(means, names)]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colors = ["#9e9e9e", "#90a4ae"] + ["#4e79a7"] * 3 + ["#e15759", "#b8312f"]
    bars = ax.bar(range(len(names)), means, yerr=[lo, hi], capsize=4, color=colors[: len(names)])
    for bar, m, up in zip(bars, means, hi):
        ax.text(bar.get_x() + bar.get_width() / 2, m + up + 1, f"{m:.1f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([LABELS[n] for n in names], rotation=20, ha="right", fontsize=9)
    ax.set_ylabel("closed-book accuracy on the passage's questions (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Knowledge incorporation, {result['passages']} held-out passages (95% CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def retention_chart(result: Dict[str, Any], path: str) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    for ax, arm in zip(axes[:2], ("naive", "mitigated")):
        m = result[arm]["matrix"]
        n = len(m)
        shown = [[m[r][i] * 100 if i <= r else float("nan") for i in range(n)] for r in range(n)]
        im = ax.imshow(shown, cmap="viridis", vmin=0, vmax=100)
        for r in range(n):
            for i in range(r + 1):
                ax.text(i, r, f"{shown[r][i]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if shown[r][i] < 60 else "black")
        ax.set_xticks(range(n))
        ax.set_xticklabels([str(i + 1) for i in range(n)])
        ax.set_yticks(range(n))
        ax.set_yticklabels([str(r + 1) for r in range(n)])
        ax.set_xlabel("passage")
        ax.set_ylabel("after edit")
        ax.set_title(f"{arm}: retention {result[arm]['meanRetention'] * 100:.0f}%")
    fig.colorbar(im, ax=axes[:2], shrink=0.8, label="accuracy (%)")
    ax = axes[2]
    steps = range(1, len(result["naive"]["matrix"]) + 1)
    for arm, color in (("naive", "#e15759"), ("mitigated", "#4e79a7")):
        ax.plot(steps, [v * 100 for v in result[arm]["meanAccuracyAfterEach"]], color=color, marker="o",
                label=f"{arm}: edited passages")
        ax.plot(steps, [v * 100 for v in result[arm]["knownFactsAfterEach"]], color=color, linestyle="--",
                marker="x", label=f"{arm}: known facts")
    ax.axhline(result["baseAccuracy"] * 100, color="#9e9e9e", linestyle=":", label="base, edited passages")
    ax.set_xlabel("edits applied")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("mean accuracy after each edit")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def knowledge_table(result: Dict[str, Any]) -> str:
    rows = ["| condition | mean accuracy | 95% CI | passages |", "|---|---|---|---|"]
    for n in list(LABELS) + [k for k in result["conditions"] if k not in LABELS]:
        c = result["conditions"].get(n)
        if c is None:
            continue
        rows.append(f"| {LABELS.get(n) or BASE_AFTER_ROUND.get(n, n)} | {c['mean'] * 100:.1f}% | {c['ci95'][0] * 100:.1f}-"
                    f"{c['ci95'][1] * 100:.1f}% | {c['n']} |")
    return "\n".join(rows)


def continual_table(result: Dict[str, Any]) -> str:
    rows = ["| arm | mean retention | backward transfer | forgetting | edited passages after 8 | known facts after 8 |",
            "|---|---|---|---|---|---|"]
    for arm in ("naive", "mitigated"):
        a = result[arm]
        rows.append(f"| {arm} | {a['meanRetention'] * 100:.1f}% | {a['backwardTransfer'] * 100:+.1f} pts | "
                    f"{a['forgetting'] * 100:.1f} pts | {a['meanAccuracyAfterEach'][-1] * 100:.1f}% | "
                    f"{a['knownFactsAfterEach'][-1] * 100:.1f}% |")
    return "\n".join(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="seal-plots", description=__doc__.split("\n\n")[0])
    ap.add_argument("--knowledge")
    ap.add_argument("--continual")
    ap.add_argument("--out", default="../docs/results")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    tables: List[str] = []
    if args.knowledge:
        with open(args.knowledge, encoding="utf-8") as f:
            k = json.load(f)
        knowledge_chart(k, os.path.join(args.out, "knowledge.png"))
        tables.append(knowledge_table(k))
    if args.continual:
        with open(args.continual, encoding="utf-8") as f:
            c = json.load(f)
        retention_chart(c, os.path.join(args.out, "continual.png"))
        tables.append(continual_table(c))
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
