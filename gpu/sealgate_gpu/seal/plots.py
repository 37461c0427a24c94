"""Charts of the SEAL experiments (matplotlib, PNG) and their tables in Markdown, from the experiments' JSON.

Run from gpu/: python3 -m sealgate_gpu.seal.plots --knowledge K.json --continual C.json --cost X.json --out DIR
"""
from __future__ import annotations

import argparse
import json
import math
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


ARM_COLORS = {"naive": "#e15759", "mitigated": "#4e79a7", "consolidated": "#76b7b2", "routed": "#59a14f"}
MEASURES = (("efficacy", "efficacy (own questions, just after)"), ("retention", "earlier edits retained"),
            ("knownFacts", "known facts kept"), ("locality", "locality (unrelated prompts)"))


def wilson(m: Dict[str, Any]) -> Dict[str, Any]:
    """A share of yes/no items (known facts kept) with Wilson's 95% interval, which stays honest at 0% and 100%
    where the normal approximation collapses to a point."""
    n, p, z = m["n"], m["mean"], 1.96
    if not n:
        return m
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {**m, "ci95": [max(0.0, centre - half), min(1.0, centre + half)]}


def measure(result: Dict[str, Any], arm: str, key: str) -> Dict[str, Any]:
    m = result[arm]["milestones"][str(result["edits"])][key]
    return wilson(m) if key == "knownFacts" else m


def passage_set(result: Dict[str, Any]) -> str:
    """The tuning set is held-out passages 100-199, the check set 200-299 (never used while tuning)."""
    first = result["firstPassage"]
    return "check set" if first >= 200 else "tuning set" if first >= 100 else f"passages from {first}"


def arms_of(result: Dict[str, Any]) -> List[str]:
    return [a for a in ARM_COLORS if a in result]


def continual_chart(results: Sequence[Dict[str, Any]], path: str) -> None:
    """Each measure against the number of sequential edits, per arm (colour) and passage set (line style), with
    the 95% intervals of each figure."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
    styles = {"check set": "-", "tuning set": "--"}
    for ax, (key, title) in zip(axes, MEASURES):
        # One line per results file and arm, through its milestones (a 100-edit run after 8, 32 and 100 edits).
        for result in sorted(results, key=lambda r: (passage_set(r), r["edits"])):
            for arm in arms_of(result):
                points = sorted((int(e), wilson(m[key]) if key == "knownFacts" else m[key])
                                for e, m in result[arm]["milestones"].items())
                xs = [p[0] for p in points]
                ys = [p[1]["mean"] * 100 for p in points]
                lo = [y - p[1]["ci95"][0] * 100 for y, p in zip(ys, points)]
                hi = [p[1]["ci95"][1] * 100 - y for y, p in zip(ys, points)]
                ax.errorbar(xs, ys, yerr=[lo, hi], color=ARM_COLORS[arm], linestyle=styles.get(passage_set(result), ":"),
                            marker="o", capsize=3, alpha=0.85,
                            label=f"{arm}, {passage_set(result)}, {result['runs']} x {result['edits']}")
        ax.set_xscale("log")
        ax.set_xticks([8, 32, 100])
        ax.set_xticklabels(["8", "32", "100"])
        ax.set_xlabel("sequential edits")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 105)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("%")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 0.0))
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


def continual_table(results: Sequence[Dict[str, Any]]) -> str:
    """The Pareto table: per passage set, number of edits and arm, each measure with its 95% interval."""
    def cell(m: Dict[str, Any]) -> str:
        return f"{m['mean'] * 100:.1f}% ({m['ci95'][0] * 100:.1f}-{m['ci95'][1] * 100:.1f})"

    rows = ["| passages | edits | arm | efficacy | retention | known facts kept | locality | in-context QA | s/edit |",
            "|---|---|---|---|---|---|---|---|---|"]
    for result in sorted(results, key=lambda r: (passage_set(r), r["edits"])):
        for arm in arms_of(result):
            m = result[arm]["milestones"][str(result["edits"])]
            rows.append(f"| {passage_set(result)} ({result['runs']} x {result['edits']}) | {result['edits']} | {arm} | "
                        f"{cell(m['efficacy'])} | {cell(m['retention'])} | {cell(measure(result, arm, 'knownFacts'))} | "
                        f"{cell(m['locality'])} | {m['inContextQa'] * 100:.1f}% (base "
                        f"{result['baseInContextQa'] * 100:.1f}%) | {result[arm]['secondsPerEdit']:.1f} |")
    return "\n".join(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="seal-plots", description=__doc__.split("\n\n")[0])
    ap.add_argument("--knowledge")
    ap.add_argument("--continual", nargs="*", default=[], help="continual results (any number of edits and sets)")
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
        results = []
        for path in args.continual:
            with open(path, encoding="utf-8") as f:
                results.append(json.load(f))
        continual_chart(results, os.path.join(args.out, "continual.png"))
        tables.append(continual_table(results))
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
