"""Figures of the inverted-dynamics experiment (notebook 06): drawing only."""
from __future__ import annotations

from typing import Sequence

from secretlab.experiments.inverted import ARM_COLOURS, ARM_LABELS, ARMS, InvertedResult
from secretlab.plots import plot_iqm_band


def plot_curves(result: InvertedResult, ax, kind: str = "success", n_boot: int = 500,
                arms: Sequence[str] = ARMS, title: str = "") -> None:
    """IQM curves of ``arms`` over seeds with 95% stratified-bootstrap bands against environment steps."""
    for arm in arms:
        plot_iqm_band(ax, result.steps, result.curves(arm, kind), ARM_LABELS[arm], ARM_COLOURS[arm], alpha=0.18,
                      n_boot=n_boot, seed=result.config.seed)
    if kind == "success":
        ax.axhline(result.config.threshold, color="k", ls=":", lw=0.8)
        ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("environment steps (per seed)")
    ax.set_ylabel("IQM success rate (training)" if kind == "success" else "IQM return (training)")
    ax.set_title(result.config.scenario + ", inverted controls" + (f": {title}" if title else ""), fontsize=9)
