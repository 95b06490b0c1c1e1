"""Figures for the reward model and its credit (notebooks 02 and 03).

Every function takes plain arrays / results from :mod:`secretlab.training` and
:mod:`secretlab.credit` and returns a matplotlib ``Figure``.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from secretlab.plots import draw_maze

SIGN_LABELS = ("-1", "0", "+1")


def plot_history(history: pd.DataFrame):
    """Train/validation loss and validation precision/recall of the ±1 classes per epoch."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].plot(history["epoch"], history["train_loss"], "o-", label="train")
    axes[0].plot(history["epoch"], history["val_loss"], "o-", label="validation")
    if "best" in history and history["best"].any():
        best = history[history["best"]].iloc[0]
        axes[0].axvline(best["epoch"], color="0.6", ls=":", label="kept (best val)")
    axes[0].set(xlabel="epoch", ylabel="weighted sequence CE", title="loss", yscale="log")
    axes[0].legend(fontsize=8)
    for key, style in [("precision_pos", "C2-"), ("recall_pos", "C2--"), ("precision_neg", "C3-"),
                       ("recall_neg", "C3--")]:
        axes[1].plot(history["epoch"], history[key], style, marker="o", ms=3, label=key.replace("_", " "))
    axes[1].set(xlabel="epoch", ylim=(-0.02, 1.02), title="validation, per reward sign")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion(confusion: np.ndarray, title: str = "validation confusion (real steps)"):
    """(3, 3) counts, rows = true sign, columns = predicted, with row-normalised shading."""
    import matplotlib.pyplot as plt

    confusion = np.asarray(confusion)
    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(3.8, 3.4))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(3):
        for j in range(3):
            ax.text(j, i, f"{confusion[i, j]}\n({share[i, j]:.0%})", ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.6 else "black")
    ax.set(xticks=range(3), yticks=range(3), xticklabels=SIGN_LABELS, yticklabels=SIGN_LABELS,
           xlabel="predicted sign", ylabel="true sign", title=title)
    fig.tight_layout()
    return fig


def plot_trajectory_predictions(rewards: np.ndarray, predicted_sign: np.ndarray, attention_row: np.ndarray | None,
                                activated: np.ndarray | None = None, title: str = ""):
    """One trajectory: true vs predicted sign per step, and (optionally) the attention row of a reward."""
    import matplotlib.pyplot as plt

    L = len(rewards)
    n = 2 if attention_row is not None else 1
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.2 * n), sharex=True, squeeze=False)
    ax = axes[0, 0]
    steps = np.arange(L)
    ax.step(steps, np.sign(rewards), where="mid", color="k", lw=1.2, label="true sign(r)")
    ax.plot(steps, predicted_sign, "o", ms=3, color="C1", label="predicted")
    if activated is not None:
        for s in np.flatnonzero(activated):
            ax.axvline(s, color="C3", alpha=0.5, lw=1)
    ax.set(yticks=[-1, 0, 1], ylabel="sign", title=title)
    ax.legend(fontsize=8, loc="upper left")
    if attention_row is not None:
        ax = axes[1, 0]
        ax.bar(steps, attention_row[:L], color="C0", width=1.0)
        if activated is not None:
            for s in np.flatnonzero(activated):
                ax.axvline(s, color="C3", alpha=0.5, lw=1, label="trigger activated" if s == np.flatnonzero(activated)[0] else None)
            ax.legend(fontsize=8)
        ax.set(ylabel="attention α(i←t)", xlabel="step", ylim=(0, 1))
    fig.tight_layout()
    return fig


def plot_attention_by_offset(offset_data: Mapping[str, np.ndarray], title: str = ""):
    """Figure 3 (left): mean attention vs signed offset to the k-th trigger activation; pooled panel last."""
    import matplotlib.pyplot as plt

    offsets, by_order, pooled, counts = (offset_data[k] for k in ("offsets", "by_order", "pooled", "counts"))
    K = len(by_order)
    fig, axes = plt.subplots(1, K + 1, figsize=(3.0 * (K + 1), 2.9), sharey=True, squeeze=False)
    ordinal = {0: "1st", 1: "2nd", 2: "3rd"}
    panels = [(f"{ordinal.get(k, f'{k + 1}th')} trigger (n={counts[k]})", by_order[k]) for k in range(K)]
    panels.append((f"pooled (n={int(counts.sum())})", pooled))
    for ax, (name, values) in zip(axes[0], panels):
        colours = ["C3" if o == 0 else "C0" for o in offsets]
        ax.bar(offsets, values, color=colours, width=0.85)
        ax.set(title=name, xlabel="attended step − activation step")
        ax.set_xticks(offsets[:: max(1, len(offsets) // 6)])
    axes[0, 0].set_ylabel("mean attention")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_pr_curves(curves: Mapping[str, Any], threshold: float | None = None):
    """Precision–recall curves of thresholded attention, one line per scenario (``CreditScores`` values)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4))
    for i, (name, s) in enumerate(curves.items()):
        ax.plot(s.pr_curve["recall"], s.pr_curve["precision"], color=f"C{i}",
                label=f"{name} (AP {s.average_precision:.2f})")
        if threshold is not None:
            ax.plot(s.micro_recall, s.micro_precision, "o", color=f"C{i}", ms=5)
    ax.plot([0.94], [0.96], "k*", ms=10, label="paper (0.96 / 0.94)")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02),
           title="pooled attention entries" + (f" (dots: α > {threshold})" if threshold else ""))
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_cell_heatmap(mean: np.ndarray, size: int, layout, title: str = "mean credit per cell"):
    """Average attention per maze cell over the fixed maze ``layout`` (Figure 8 analogue)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4))
    draw_maze(ax, size, agent=layout.agent, triggers=layout.triggers, prizes=layout.prizes, values=mean,
              cmap="Reds", vmin=0, title=title, colorbar_label="attention per reward")
    fig.tight_layout()
    return fig


def plot_credit_paths(paths: list[dict[str, Any]], size: int, ncols: int = 3):
    """A few single trajectories: the path, each step coloured by the credit it received.

    Each item: ``layout`` (maze), ``cells`` (L, 2) visited cells (start + every step),
    ``credit`` (L,) the attention the reward paid to the step that entered each cell, ``title``.
    """
    import matplotlib.pyplot as plt

    n = len(paths)
    ncols = min(ncols, max(n, 1))
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, item in zip(axes.flat, paths):
        lay = item["layout"]
        draw_maze(ax, size, agent=lay.agent, triggers=lay.triggers, prizes=lay.prizes, path=item["cells"],
                  path_values=item["credit"], title=item.get("title"))
        hot = item["credit"] > 0.2
        cells = np.asarray(item["cells"])
        ax.scatter(cells[hot, 1], cells[hot, 0], s=60, facecolors="none", edgecolors="k", zorder=7, lw=1.5)
    fig.tight_layout()
    return fig


def plot_attention_row(rows: Any, dataset: Any, scores: Any, size: int, threshold: float = 0.2):
    """One prediction's attention row α_{i←t} (bars, the activations marked) beside its path coloured by credit.

    Shows the first correct +1 row of ``rows`` (else the first +1 row); ``scores`` (a
    :class:`secretlab.credit.CreditScores` or None) adds that row's precision and recall to the title.
    Returns None when ``rows`` has no +1 row.
    """
    import matplotlib.pyplot as plt

    good = rows.correct_positive
    shown = good if len(good) else rows.select(rows.sign > 0)
    if not len(shown):
        return None
    n, t = int(shown.traj[0]), int(shown.step[0])
    alpha = shown.attention[0, : t + 1]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3), gridspec_kw={"width_ratios": [2.2, 1]})
    axes[0].bar(np.arange(t + 1), alpha, color=np.where(alpha > threshold, "tab:red", "tab:blue"))
    for s in np.flatnonzero(dataset.activated[n, : t + 1]):
        axes[0].axvline(s, color="darkred", ls="--", lw=1, label="trigger activated")
    axes[0].axhline(threshold, color="0.5", ls=":", label=f"threshold {threshold}")
    row_scores = (f"; this row: precision {scores.row_precision[0]:.2f}, recall {scores.row_recall[0]:.2f}"
                  if scores is not None and len(good) else "")
    axes[0].set(xlabel="step i", ylabel=r"$\alpha_{i\leftarrow t}$",
                title=f"prediction at t={t}: predicted {int(shown.pred[0]):+d}, true +1{row_scores}")
    axes[0].legend(fontsize=8)
    cells = dataset.agent_cells[n, : t + 2]
    draw_maze(axes[1], size, cells[-1], dataset.layouts.triggers[n], dataset.layouts.prizes[n],
              path=cells, path_values=np.concatenate([[0.0], alpha]), title="path, coloured by credit")
    return fig
