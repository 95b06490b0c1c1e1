"""JSON blocks and report rows of the tabular transfer experiments (notebooks 04 and 05).

Everything here reads a :class:`secretlab.experiments.transfer.TransferResult`; nothing is
hand-typed. The headline questions:

- does each form with the *learned* credit reach 80% success in at most half of
  plain Q-learning's episodes, with disjoint 95% intervals?
- is it faster than the same form with the ``uniform`` credit control (no credit
  assignment), with disjoint intervals? (``credit_effect``)
"""
from __future__ import annotations

from typing import Any

from secretlab import stats
from secretlab.experiments.transfer import ORACLE, PLAIN, SECRET, TransferResult, arm_name

LEARNED_SOURCES = ("secret", "secret_sparse")
"""Sources that read the learned model's credit (the rest are controls)."""


def fmt(v: float | None, digits: int = 0) -> str:
    """A number for a table; None reads 'never'."""
    return "never" if v is None else f"{v:.{digits}f}"


def _ci(block: dict[str, Any], key: str = "episodes_to_80") -> str:
    lo, hi = block[f"{key}_ci"]
    return f"{fmt(block[key])} [{fmt(lo)}, {fmt(hi)}]"


def _interval(block: dict[str, Any], key: str = "episodes_to_80") -> stats.Interval:
    return stats.Interval(block[key], *block[f"{key}_ci"])


def _ratio(sp: dict[str, Any] | None) -> str:
    if not sp or sp.get("point") is None:
        return "—" if not sp else "never reached"
    return f"{sp['point']:.2f} [{fmt(sp['lo'], 2)}, {fmt(sp['hi'], 2)}]"


def results_json(result: TransferResult, source_trajectories: int | None) -> dict[str, Any]:
    """Per-arm blocks (top-level keys = arm names), speed-ups, credit effects, diagnostics and table rows."""
    cfg = result.config
    out: dict[str, Any] = {arm: result.summary(arm) for arm in result.arms}
    if arm_name("secret", "phi") in out:
        out[SECRET] = out[arm_name("secret", "phi")]  # the paper's arm keeps its name
    out["speedup_vs_q_learning"] = {arm: result.speedup(PLAIN, arm).as_dict() for arm in result.arms if arm != PLAIN}
    out["credit_effect"] = credit_effect(result, out)
    out["bump_share"] = bump_shares(result)
    out["target_mazes"] = [int(m) for m in result.maze_seeds]
    out["source_trajectories"] = source_trajectories
    out["target_trajectories_D"] = cfg.n_target_trajectories
    out["target_steps_in_D"] = {str(n): float(v.mean()) for n, v in result.d_steps.items()}
    out["timings_s"] = {k: round(v, 2) for k, v in result.timings.items()}
    out["potential_meta"] = result.potential_meta
    out["table_rows"] = credit_table(result, out)
    out["sensitivity_D"] = sensitivity_rows(result, out)
    return out


def credit_effect(result: TransferResult, js: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per form (and ``{form}_sparse``): learned credit against the uniform control, same form and |D|."""
    effects: dict[str, dict[str, Any]] = {}
    for form in result.config.forms:
        control = arm_name("uniform", form)
        for source in LEARNED_SOURCES:
            learned = arm_name(source, form)
            if learned not in result.success or control not in result.success:
                continue
            speed = result.speedup(control, learned)
            auc = result.auc_difference(learned, control)
            a, b = js[learned], js[control]
            effects[form if source == "secret" else f"{form}_sparse"] = {
                "learned": learned, "control": control,
                "speedup_over_uniform": speed.as_dict(), "auc_difference": auc.as_dict(),
                "faster_than_uniform": stats.disjoint_below(_interval(a), _interval(b)),
                "greedy_faster_than_uniform": stats.disjoint_below(_interval(a, "greedy_episodes_to_80"),
                                                                   _interval(b, "greedy_episodes_to_80")),
                "auc_above_uniform": auc.lo is not None and auc.lo > 0}
    return effects


def bump_shares(result: TransferResult) -> dict[str, dict[str, dict[str, Any]]]:
    """Share of training steps on the states where a φ̂ arm's potential is positive (its 'bump') and negative,
    for plain Q-learning and for that arm."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for bump_arm in (arm_name("secret", "phi"), arm_name("ideal", "phi"), arm_name("ideal_negative", "phi")):
        if bump_arm not in result.potentials:
            continue
        out[bump_arm] = {arm: {"positive": result.bump_share(arm, bump_arm).as_dict(),
                               "negative": result.bump_share(arm, bump_arm, positive=False).as_dict()}
                         for arm in (PLAIN, bump_arm)}
    return out


def credit_table(result: TransferResult, js: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per main-|D| arm: episodes to 80% (training and greedy), AUC, speed-up vs plain."""
    rows = []
    for arm in result.arms:
        spec = result.arm_specs[arm]
        if spec.n not in (None, result.config.n_target_trajectories):
            continue
        s = js[arm]
        rows.append({
            "arm": arm, "source": spec.source or "—", "form": spec.form or "—",
            "episodes_to_80": _ci(s), "greedy_episodes_to_80": _ci(s, "greedy_episodes_to_80"),
            "AUC (IQM success)": f"{s['auc']['point']:.3f} [{s['auc']['lo']:.3f}, {s['auc']['hi']:.3f}]",
            "speed-up vs plain": "—" if arm == PLAIN else _ratio(js["speedup_vs_q_learning"][arm]),
        })
    return rows


def sensitivity_rows(result: TransferResult, js: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (source, form, |D|): episodes to 80% (training and greedy) and AUC."""
    rows = []
    for arm in result.arms:
        spec = result.arm_specs[arm]
        if spec.n is None:
            continue
        s = js[arm]
        rows.append({"source": spec.source, "form": spec.form, "|D|": spec.n, "arm": arm,
                     "episodes_to_80": s["episodes_to_80"], "episodes_to_80_lo": s["episodes_to_80_ci"][0],
                     "episodes_to_80_hi": s["episodes_to_80_ci"][1],
                     "greedy_episodes_to_80": s["greedy_episodes_to_80"],
                     "greedy_episodes_to_80_lo": s["greedy_episodes_to_80_ci"][0],
                     "greedy_episodes_to_80_hi": s["greedy_episodes_to_80_ci"][1],
                     "auc": s["auc"]["point"], "auc_lo": s["auc"]["lo"], "auc_hi": s["auc"]["hi"]})
    return sorted(rows, key=lambda r: (r["form"], r["source"], r["|D|"]))


def paper_comparison(js: dict[str, Any], experiment: str, target_speedup: float | None = 2.0) -> list[dict[str, Any]]:
    """Rows for the REPORT: the paper's claim beside our measurement, and the credit-effect checks."""
    plain = js[PLAIN]
    rows = [{"quantity": f"{experiment}: episodes to 80% success, plain Q-learning", "paper": None,
             "ours": _ci(plain), "note": "IQM over seeds × target mazes, 95% stratified bootstrap CI"}]
    paper_arm = arm_name("secret", "phi")
    if paper_arm in js:
        sp = js["speedup_vs_q_learning"][paper_arm]
        met = (sp.get("point") is not None and target_speedup is not None and sp["point"] >= target_speedup
               and stats.disjoint_below(_interval(js[paper_arm]), _interval(plain)))
        rows.append({"quantity": f"{experiment}: paper's φ̂ (q_learning_secret): episodes to 80%, speed-up vs plain",
                     "paper": "visibly faster (Fig.)", "ours": f"{_ci(js[paper_arm])}; {_ratio(sp)}",
                     "note": (f"target ≥ {target_speedup:.0f}× with disjoint CIs: " + ("met" if met else "MISSED"))
                     if target_speedup else f"|D| = {js['target_trajectories_D']}"})
    for key, effect in js.get("credit_effect", {}).items():
        learned, control = effect["learned"], effect["control"]
        sp = js["speedup_vs_q_learning"][learned]
        half = sp.get("point") is not None and sp["point"] >= 2 and stats.disjoint_below(
            _interval(js[learned]), _interval(plain))
        beats = effect["faster_than_uniform"]
        rows.append({
            "quantity": f"{experiment}: {learned} vs plain and vs {control}",
            "paper": None,
            "ours": f"{_ci(js[learned])} vs plain {_ci(plain)} and uniform {_ci(js[control])}; "
                    f"speed-up over uniform {_ratio(effect['speedup_over_uniform'])}"
                    + (f"; shuffled control {_ci(js[shuffled])}" if (shuffled := control.replace(
                        "uniform", "shuffled", 1)) in js else ""),
            "note": "≤ 0.5× plain's episodes (disjoint CIs): " + ("met" if half else "MISSED")
                    + "; faster than the uniform control (disjoint CIs): " + ("met" if beats else "MISSED")
                    + " (greedy: " + ("faster" if effect["greedy_faster_than_uniform"] else "not faster")
                    + "; AUC above uniform: " + ("yes" if effect["auc_above_uniform"] else "no") + ")"})
    if ORACLE in js:
        rows.append({"quantity": f"{experiment}: episodes to 80%, oracle shaping", "paper": None,
                     "ours": _ci(js[ORACLE]), "note": "ground-truth potential k/n_T · prizes left (reference arm)"})
    return rows


def early_and_final(result: TransferResult, arm: str, share: float = 0.1) -> dict[str, Any]:
    """IQM success over the first and the last ``share`` of the episodes, with 95% intervals."""
    succ = result.success[arm].astype(float)
    k = max(1, int(round(share * succ.shape[-1])))
    early = stats.iqm_interval(succ[..., :k].mean(-1), result.config.n_boot, seed=result.config.seed)
    final = stats.iqm_interval(succ[..., -k:].mean(-1), result.config.n_boot, seed=result.config.seed)
    return {"early_episodes": k, "early_success": round(early.point, 4), "early_lo": round(early.lo, 4),
            "early_hi": round(early.hi, 4), "final_success": round(final.point, 4), "final_lo": round(final.lo, 4),
            "final_hi": round(final.hi, 4)}


def phase_comparison(rows: list[dict[str, Any]], name: str, arm: str = "q_learning_secret_phi") -> list[dict[str, Any]]:
    """Paper rows for Fig. 5's claims (early advantage, asymptote at least as high) from :func:`early_and_final` rows."""
    by_arm = {r["arm"]: r for r in rows}
    if PLAIN not in by_arm or arm not in by_arm:
        return []
    p, s = by_arm[PLAIN], by_arm[arm]
    early_adv = s["early_lo"] > p["early_hi"]
    final_ok = s["final_hi"] >= p["final_lo"]
    label = "SECRET (paper's φ̂)" if arm in (SECRET, arm_name("secret", "phi")) else arm
    return [
        {"quantity": f"bigger mazes {name}: early success (first {p['early_episodes']} episodes) plain vs {label}",
         "paper": "SECRET benefits very early",
         "ours": f"{p['early_success']:.2f} [{p['early_lo']:.2f}, {p['early_hi']:.2f}] vs "
                 f"{s['early_success']:.2f} [{s['early_lo']:.2f}, {s['early_hi']:.2f}]",
         "note": "early advantage (disjoint CIs): " + ("met" if early_adv else "MISSED")},
        {"quantity": f"bigger mazes {name}: final success (last {p['early_episodes']} episodes) plain vs {label}",
         "paper": "better asymptotic performance",
         "ours": f"{p['final_success']:.2f} [{p['final_lo']:.2f}, {p['final_hi']:.2f}] vs "
                 f"{s['final_success']:.2f} [{s['final_lo']:.2f}, {s['final_hi']:.2f}]",
         "note": "asymptote at least as high (CIs overlap or above): " + ("met" if final_ok else "MISSED")},
    ]
