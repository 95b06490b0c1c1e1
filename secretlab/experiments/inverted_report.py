"""Notebook 06's readings of the inverted-dynamics runs: the credit check, the SB3 run, the paper comparison, the JSON.

The runs themselves are :func:`secretlab.experiments.inverted.run_inverted`; this module turns their results into what
the notebook shows and saves, so the notebook's last cells are a few calls.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from secretlab import stats
from secretlab.experiments import inverted

#: Row labels of :func:`credit_under_controls`, in order.
CREDIT_CONTROLS = ("inverted, actions taken (dqn_secret)", "inverted, effect-labelled (dqn_secret_effect)",
                   "normal controls, same mazes")


def _fmt(v: float | None) -> str:
    return "never" if v is None else f"{v:,.0f}"


def differences(result: inverted.InvertedResult) -> dict[str, dict[str, Any]]:
    """Per :data:`inverted.COMPARISONS` entry: the baseline's steps to ``config.threshold`` over the arm's
    (``speedup_to_threshold``; None when unbounded or undefined) and IQM success AUC, arm minus baseline
    (``auc_difference``), each with its 95% bootstrap interval."""
    cfg, out = result.config, {}
    for name, (arm, baseline) in inverted.COMPARISONS.items():
        a, b = result.curves(arm), result.curves(baseline)
        out[name] = {"arm": arm, "baseline": baseline,
                     "speedup_to_threshold": stats.speedup(b, a, result.steps, cfg.threshold, cfg.n_boot,
                                                           seed=cfg.seed).as_dict(),
                     "auc_difference": stats.iqm_difference(stats.normalised_auc(a), stats.normalised_auc(b),
                                                            cfg.n_boot, seed=cfg.seed).as_dict()}
    return out


def results_json(result: inverted.InvertedResult) -> dict[str, Any]:
    """Per-arm summaries, the steps-to-80% table rows and run metadata."""
    out: dict[str, Any] = {arm: result.summary(arm) for arm in inverted.ARMS}
    rows = []
    for arm in inverted.ARMS:
        s = out[arm]
        st = s["steps_to_80"]
        rows.append({
            "scenario": result.config.scenario + " inverted",
            "arm": arm,
            "steps_to_80": _fmt(st["point"]),
            "95% CI": f"[{_fmt(st['lo'])}, {_fmt(st['hi'])}]",
            "AUC (IQM success)": f"{s['auc_success']['point']:.3f} [{s['auc_success']['lo']:.3f}, "
                                 f"{s['auc_success']['hi']:.3f}]",
            "test success (IQM)": f"{s['test_success']['point']:.2f} [{s['test_success']['lo']:.2f}, "
                                  f"{s['test_success']['hi']:.2f}]",
        })
    out["table_rows"] = rows
    out["target_mazes"] = [int(m) for m in result.target_mazes]
    out["source_dqn"] = result.source_summary
    heldout = result.source_heldout_success
    out["source_test_success"] = {
        **stats.iqm_interval(heldout[:, None], result.config.n_boot, seed=result.config.seed).as_dict(),
        "per_seed": [round(float(v), 3) for v in heldout], "mazes": "held-out fresh mazes, normal controls",
        "trained_on": result.config.source_mazes}
    out["differences"] = differences(result)
    out["credit_effect"] = {k: v for k, v in out["differences"].items() if k.startswith("credit_effect")}
    out["potential_meta"] = result.potential_meta
    out["timings_s"] = {k: round(v, 2) for k, v in result.timings.items()}
    out["steps"] = [int(x) for x in result.steps]
    return out


def credit_under_controls(result: inverted.InvertedResult, model: Any) -> pd.DataFrame:
    """Does the source model's credit survive the inverted controls? Three rows per target maze.

    For each target maze of ``result`` (|D| random-policy episodes each), labelled by
    :data:`CREDIT_CONTROLS`: the potential of the paper's shaped arms (the model reads the actions
    taken), the extension's (it reads the effect-labelled actions), and the one the same frozen model
    gives in the same maze with normal controls. Columns: ``maze_seed``, ``controls``, ``reward_rows``
    (non-zero rewards in D), ``correct_rows`` (predicted with the right sign: the only rows that give
    credit), ``correct_positive_rows``, ``states_with_phi`` (non-zero φ̂ entries), ``mean_abs_phi``.
    With ``correct_rows == 0`` φ̂ ≡ 0 and the arm trains on the plain reward.
    """
    from secretlab.shaping import secret_potential

    config = result.config
    rows = []
    for maze, used, effect in zip(result.target_mazes, result.potentials, result.effect_potentials):
        normal = secret_potential(model, config.source_env, int(maze), config.n_target_trajectories,
                                  config.dqn.gamma, seed=config.seed)
        for controls, pot in zip(CREDIT_CONTROLS, (used, effect, normal)):
            rows.append({"maze_seed": int(maze), "controls": controls, "reward_rows": int(pot.meta["n_rows"]),
                         "correct_rows": int(pot.meta["n_correct_rows"]),
                         "correct_positive_rows": int(pot.meta["n_correct_positive_rows"]),
                         "states_with_phi": int(np.count_nonzero(pot.table)),
                         "mean_abs_phi": float(np.abs(pot.table).mean())})
    return pd.DataFrame(rows)


def credit_totals(results: dict[str, inverted.InvertedResult]) -> pd.DataFrame:
    """Per scenario and control (:data:`CREDIT_CONTROLS`): reward rows, correct rows, correct +1 rows
    and states with φ̂ ≠ 0, summed over the target mazes (the same source model as the run's)."""
    from secretlab.experiments.source import source_model

    check = pd.concat([
        credit_under_controls(r, source_model(r.config.source_env, r.config.profile, r.config.seed,
                                                       progress=False)).assign(scenario=name)
        for name, r in results.items()])
    return (check.groupby(["scenario", "controls"], sort=False)
            [["reward_rows", "correct_rows", "correct_positive_rows", "states_with_phi"]].sum().reset_index())


def zero_potential_notes(totals: pd.DataFrame) -> list[str]:
    """A sentence per scenario whose paper-SECRET potential is 0 in every target maze."""
    out = []
    for name, g in totals.groupby("scenario", sort=False):
        used = g[g.controls == CREDIT_CONTROLS[0]].iloc[0]
        if used.states_with_phi == 0:
            out.append(f"{name}: φ̂ ≡ 0 in every inverted target maze ({used.correct_rows} of {used.reward_rows} "
                       "rewards predicted correctly): the paper's SECRET arms got no shaping and differ from their "
                       "unshaped twins only through exploration randomness.")
    return out


def sb3_shaped_run(result: inverted.InvertedResult, params: dict[str, Any], seed: int,
                   n_greedy_episodes: int = 2) -> dict[str, Any]:
    """Stable-Baselines3's DQN, unchanged, on the shaped Gymnasium env of ``result``'s first target maze.

    SECRET only changes the reward, so any library can use it: ``ShapingWrapper`` adds F to
    ``secretlab/Triggers-v0``'s reward and ``full_grid_env`` shows the full grid, as our DQN sees it.
    Trains ``params["sb3_steps"]`` steps, then plays ``n_greedy_episodes`` greedy episodes.
    """
    import gymnasium as gym

    from secretlab.determinism import torch_threads
    from secretlab.agents.sb3_dqn import full_grid_env, sb3_dqn
    from secretlab.wrappers import ShapingWrapper

    cfg = result.config
    env = full_grid_env(ShapingWrapper(gym.make("secretlab/Triggers-v0", size=cfg.size, n_triggers=cfg.n_triggers,
                                                n_prizes=cfg.n_prizes, inverted=True), result.potentials[0]),
                        cfg.dqn.observation)
    steps = params["sb3_steps"]
    start = time.perf_counter()
    with torch_threads(1):  # tiny forward passes: one thread (two spin against each other on a busy 2-core box)
        agent = sb3_dqn(env, inverted.profile_dqn_config(params, steps), seed=seed).learn(total_timesteps=steps)
        seconds = time.perf_counter() - start
        env_returns, shaped_returns = [], []
        for ep in range(n_greedy_episodes):
            obs, info = env.reset(seed=ep)
            done, env_return, shaped_return = False, 0.0, 0.0
            while not done:
                action, _ = agent.predict(obs, deterministic=True)
                obs, reward, terminated, truncated, info = env.step(int(action))
                env_return += info["env_reward"]
                shaped_return += reward
                done = terminated or truncated
            env_returns.append(env_return)
            shaped_returns.append(shaped_return)
    return {"steps": steps, "seconds": round(seconds, 1), "steps_per_s": round(steps / seconds, 1),
            "greedy_env_returns": env_returns, "greedy_shaped_returns": [round(x, 3) for x in shaped_returns]}


def _difference(summary: dict[str, Any], name: str) -> dict[str, Any]:
    """The AUC difference of :data:`inverted.COMPARISONS` entry ``name``, with where its 95% interval lies
    (``verdict``: above 0, below 0 or contains 0) and a one-line text."""
    d = summary["differences"][name]["auc_difference"]
    verdict = "above 0" if d["lo"] > 0 else "below 0" if d["hi"] < 0 else "contains 0"
    return {**d, "verdict": verdict, "text": f"{d['point']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"}


#: The paper-comparison rows of the AUC differences: quantity, and what the paper claims (None: not a claim).
CLAIMS = {"shaping_from_scratch": ("shaping benefit from scratch (AUC, SECRET - scratch)",
                                   "positive (exclusively beneficial)"),
          "shaping_on_transfer": ("shaping benefit on weight transfer (AUC, transfer+SECRET - transfer)",
                                  "positive (exclusively beneficial)"),
          "weight_transfer": ("weight transfer vs scratch (AUC)", "can be negative (detrimental)"),
          "credit_effect": ("learned credit vs uniform attention, paper's φ̂ (AUC)", None),
          "credit_effect_effect_labelled": ("learned credit vs uniform attention, effect-labelled φ̂ (AUC)", None),
          "advice_from_scratch": ("SECRET advice (extension) vs scratch (AUC)", None),
          "credit_effect_advice": ("learned credit vs uniform attention, effect-labelled advice (AUC)", None)}


def paper_reading(summaries: dict[str, dict[str, Any]], totals: pd.DataFrame,
                  total_steps: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Does SECRET shaping help on top of each initialisation, does weight transfer hurt, and what does the
    learned credit add over uniform attention? Markdown lines and ``paper_comparison`` rows, computed from
    ``summaries`` (:func:`results_json`: AUC differences with 95% intervals) and the credit check."""
    lines, comparison = [], []
    arms = list(inverted.ARMS)
    for name, s in summaries.items():
        d = {key: _difference(s, key) for key in inverted.COMPARISONS}
        steps = ", ".join(f"{arm} {row['steps_to_80']} {row['95% CI']}" for arm, row in zip(arms, s["table_rows"]))
        lines.append(f"- **{name} inverted** (success AUC differences, 95% intervals): SECRET shaping from scratch "
                     f"{d['shaping_from_scratch']['text']}, on weight transfer {d['shaping_on_transfer']['text']}; "
                     f"weight transfer vs scratch {d['weight_transfer']['text']}; the effect-labelled extension vs "
                     f"scratch {d['effect_shaping_from_scratch']['text']}. What the learned credit adds over uniform "
                     f"attention in the same φ̂: {d['credit_effect']['text']} (paper's arm), "
                     f"{d['credit_effect_effect_labelled']['text']} (extension). Advice (extension) vs scratch "
                     f"{d['advice_from_scratch']['text']}, learned vs uniform advice "
                     f"{d['credit_effect_advice']['text']}. Steps to 80%: {steps}.")
        source = s["source_test_success"]
        comparison.append(
            {"quantity": f"{name}: source DQN greedy success on held-out fresh mazes (normal controls)",
             "paper": "a trained source (its weights are transferred)",
             "ours": f"{source['point']:.2f} [{source['lo']:.2f}, {source['hi']:.2f}]",
             "note": f"IQM over the source seeds; trained on: {source['trained_on']} mazes; per seed "
                     f"{source['per_seed']}"})
        comparison += [{"quantity": f"{name} inverted: {label}", "paper": paper, "ours": d[key]["text"],
                        "note": f"IQM training success, mean over the run, 95% interval {d[key]['verdict']}"}
                       for key, (label, paper) in CLAIMS.items()]
        secret_steps = s[inverted.SECRET]["steps_to_80"]["point"]
        comparison.append(
            {"quantity": f"{name} inverted: steps to 80% success, DQN+SECRET", "paper": None,
             "ours": secret_steps if secret_steps is not None else "never",
             "note": f"scratch: {s['table_rows'][0]['steps_to_80']}; budget {total_steps} steps/seed"})
        counts = totals[totals.scenario == name].set_index("controls")
        inv, eff, nor = (counts.loc[c] for c in CREDIT_CONTROLS)
        lines.append(f"  SECRET credit in these inverted mazes: {inv.correct_rows} of {inv.reward_rows} rewards "
                     f"predicted correctly, φ̂ ≠ 0 on {inv.states_with_phi} states; with effect-labelled actions "
                     f"{eff.correct_rows} of {eff.reward_rows}, {eff.states_with_phi} states (same model, same mazes, "
                     f"normal controls: {nor.correct_rows} of {nor.reward_rows}, {nor.states_with_phi} states).")
        comparison.append(
            {"quantity": f"{name} inverted: rewards the source model predicts correctly in the targets (credit rows)",
             "paper": "SECRET adapts surprisingly well (§3.2)", "ours": f"{inv.correct_rows} / {inv.reward_rows}",
             "note": f"same mazes with normal controls: {nor.correct_rows} / {nor.reward_rows}; "
                     f"states with φ̂ ≠ 0: {inv.states_with_phi} (normal: {nor.states_with_phi})"})
        comparison.append(
            {"quantity": f"{name} inverted: shaping benefit of the effect-labelled extension (AUC, vs scratch)",
             "paper": None, "ours": d["effect_shaping_from_scratch"]["text"],
             "note": f"credit rows {eff.correct_rows} / {eff.reward_rows}; steps to 80%: "
                     f"{s['table_rows'][arms.index(inverted.SECRET_EFFECT)]['steps_to_80']} "
                     f"(scratch {s['table_rows'][0]['steps_to_80']})"})
    return lines, comparison


def report(summaries: dict[str, dict[str, Any]], configs: list, params: dict[str, Any], sb3: dict[str, Any],
           totals: pd.DataFrame, comparison: list[dict[str, Any]]) -> dict[str, Any]:
    """Notebook 06's JSON."""
    table = pd.DataFrame([row for s in summaries.values() for row in s["table_rows"]]).to_dict("records")
    return {
        "scenarios": {name: {k: v for k, v in s.items() if k != "table_rows"} for name, s in summaries.items()},
        "arms": list(inverted.ARMS), "n_seeds": params["n_seeds"],
        "target_dqn": vars(configs[0].dqn), "source_dqn": vars(configs[0].source_dqn),
        "sb3_shaped": sb3, "credit_under_controls": totals.to_dict("records"),
        "paper_comparison": comparison,
        "tables": {"steps to 80% success per arm (inverted dynamics, DQN)": table},
    }
