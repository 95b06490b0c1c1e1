"""Figures of the tabular transfer experiments (notebooks 04 and 05)."""
from __future__ import annotations

from typing import Any

import numpy as np

from secretlab.advice import Advice
from secretlab.plots import plot_iqm_band
from secretlab.experiments.transfer import ORACLE, PLAIN, TransferResult, arm_name

SOURCE_COLOURS = {"secret": "tab:red", "secret_sparse": "tab:orange", "uniform": "tab:gray",
                  "shuffled": "tab:brown", "ideal": "tab:green", "ideal_negative": "tab:olive"}
FORM_STYLES = {"phi": ":", "carried": "--", "advice": "-"}


def _style(result: TransferResult, arm: str, i: int) -> dict[str, Any]:
    if arm == PLAIN:
        return {"color": "black", "ls": "-", "lw": 1.8}
    if arm == ORACLE:
        return {"color": "tab:blue", "ls": "-."}
    spec = result.arm_specs.get(arm)
    if spec is None or spec.source is None:
        return {"color": f"C{i % 10}"}
    return {"color": SOURCE_COLOURS.get(spec.source, f"C{i % 10}"), "ls": FORM_STYLES.get(spec.form, "-")}


def plot_curves(result: TransferResult, ax, arms: list[str] | None = None, kind: str = "success") -> None:
    """IQM learning curves with 95% bands: ``kind`` 'success' (training buckets) or 'eval' (greedy)."""
    for i, arm in enumerate(arms or result.arms):
        if kind == "success":
            curves, x = result.success_buckets(arm)
        else:
            curves, x = result.eval_success[arm].astype(float), result.eval_episodes
        style = _style(result, arm, i)
        plot_iqm_band(ax, x, curves, arm.replace("q_learning_", "") if arm != PLAIN else arm, style.pop("color"),
                      alpha=0.12, n_boot=500, seed=0, **style)
    ax.axhline(result.config.threshold, color="k", ls=":", lw=0.8)
    ax.set_xlabel("episodes")
    ax.set_ylabel("IQM success rate" + (" (greedy)" if kind == "eval" else " (training)"))
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, ncol=2)


def main_arms(result: TransferResult, form: str) -> list[str]:
    """Plain, oracle and every source of one form at the main |D| (the arms of one curves panel)."""
    names = [PLAIN] + ([ORACLE] if ORACLE in result.success else [])
    return names + [a for a in result.arms if result.arm_specs[a].form == form
                    and result.arm_specs[a].n == result.config.n_target_trajectories]


def plot_curves_by_form(result: TransferResult, axes, kind: str = "success") -> None:
    """One panel per form: every credit source of that form against plain and oracle."""
    for ax, form in zip(axes, result.config.forms):
        plot_curves(result, ax, main_arms(result, form), kind)
        ax.set_title(f"{form} (|D| = {result.config.n_target_trajectories}, "
                     f"{'training' if kind == 'success' else 'greedy'})", fontsize=9)
    axes[0].figure.tight_layout()


def plot_target_time(result: TransferResult, ax, arms: list[str] | None = None, n_points: int = 60) -> None:
    """Total Target Time view: IQM success vs target-side steps (D's collection steps count for credit arms)."""
    arms = arms or [PLAIN] + [a for a in (ORACLE, arm_name("secret", "phi"), arm_name("secret", "carried"),
                                          arm_name("secret", "advice"), arm_name("uniform", "advice"))
                              if a in result.success]
    horizon = max(float(result.lengths[a].sum(-1).max()) for a in arms)
    horizon += max([float(v.max()) for v in result.d_steps.values()] or [0.0])
    grid = np.linspace(0, horizon, n_points)
    for i, arm in enumerate(arms):
        style = _style(result, arm, i)
        plot_iqm_band(ax, grid, result.target_time_curves(arm, grid), arm, style.pop("color"), alpha=0.15,
                      n_boot=300, seed=0, **style)
    ax.set_xlabel("target-side environment steps (incl. |D| random episodes for credit arms)")
    ax.set_ylabel("IQM success (last 10 episodes)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)


def plot_sensitivity(rows: list[dict[str, Any]], js: dict[str, Any], axes) -> None:
    """|D| sensitivity, one row of panels per form: episodes to 80% (training, greedy) per source against |D|.

    ``axes`` (n_forms, 2). 'Never' is drawn at the top edge; plain Q-learning is the black dashed line.
    """
    forms = sorted({r["form"] for r in rows}, key=["phi", "carried", "advice"].index)
    cap = max(js[PLAIN]["bucket_episodes"]) * 1.15
    for ax_row, form in zip(np.atleast_2d(axes), forms):
        for ax, key, label in zip(ax_row, ("episodes_to_80", "greedy_episodes_to_80"), ("training", "greedy")):
            for source in dict.fromkeys(r["source"] for r in rows if r["form"] == form):
                mine = [r for r in rows if r["form"] == form and r["source"] == source]
                d = [r["|D|"] for r in mine]
                y = [cap if r[key] is None else r[key] for r in mine]
                lo = [cap if r[f"{key}_lo"] is None else r[f"{key}_lo"] for r in mine]
                hi = [cap if r[f"{key}_hi"] is None else r[f"{key}_hi"] for r in mine]
                colour = SOURCE_COLOURS.get(source, "k")
                ax.plot(d, y, marker="o", color=colour, label=source)
                ax.fill_between(d, lo, hi, color=colour, alpha=0.1, lw=0)
            plain = js[PLAIN][key]
            if plain is not None:
                ax.axhline(plain, color="k", ls="--", lw=1, label="plain Q-learning")
            ax.axhline(cap, color="0.7", lw=0.8)
            ax.text(0.01, 0.98, "never ↑", transform=ax.transAxes, va="top", fontsize=7, color="0.4")
            ax.set_xscale("log")
            ds = sorted({r["|D|"] for r in rows})
            ax.set_xticks(ds, [str(d) for d in ds])
            ax.minorticks_off()
            ax.set_ylim(0, cap * 1.05)
            ax.set_xlabel("|D| target trajectories")
            ax.set_ylabel(f"episodes to 80% ({label})")
            ax.set_title(f"{form}: {label} success", fontsize=9)
        ax_row[0].legend(fontsize=7)
    np.atleast_2d(axes)[0, 0].figure.tight_layout()


def plot_potentials(result: TransferResult, axes, maze: int = 0) -> None:
    """Per cell (largest |value| over non-terminal object configurations and actions): secret φ̂, carried,
    advice, and the oracle, in one target maze."""
    from secretlab.plots import draw_maze

    env = result.config.target
    bits = np.arange(1 << (env.n_triggers + env.n_prizes))
    live = (bits >> env.n_triggers) > 0  # terminal states never enter the shaping
    for ax, arm in zip(axes, [arm_name("secret", "phi"), arm_name("secret", "carried"),
                              arm_name("secret", "advice"), ORACLE]):
        if arm not in result.potentials:
            ax.axis("off")
            continue
        pot = result.potentials[arm][maze]
        table = pot.table if not isinstance(pot, Advice) else pot.table[np.arange(env.n_states),
                                                                        np.abs(pot.table).argmax(1)]
        per_cell = table.reshape(env.size * env.size, -1)[:, live]
        values = per_cell[np.arange(len(per_cell)), np.abs(per_cell).argmax(1)].reshape(env.size, env.size)
        vmax = max(float(np.abs(values).max()), 1e-9)
        label = "Φ(s, a) (max |·| over a)" if isinstance(pot, Advice) else "φ"
        draw_maze(ax, env.size, pot.layout.agent, pot.layout.triggers, pot.layout.prizes, values=values,
                  cmap="RdBu_r", vmin=-vmax, vmax=vmax, colorbar_label=label,
                  title=arm.replace("q_learning_", "") + (f" (|D|={pot.n_trajectories})" if pot.n_trajectories else ""))
