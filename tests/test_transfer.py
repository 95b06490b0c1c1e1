"""The transfer driver: arms of credit source × potential form, the report blocks, bad input."""
import numpy as np
import pytest
import torch

from secretlab.envs.triggers import TriggersConfig
from secretlab.model import ModelConfig, RewardModel
from secretlab.experiments.transfer import ORACLE, PLAIN, SECRET, TransferConfig, arm_name, run_transfer
from secretlab.experiments.transfer_report import paper_comparison, results_json

TINY = dict(target=TriggersConfig(4, 1, 1, max_steps=30), n_target_mazes=2, n_seeds=2, n_episodes=20,
            eval_interval=10, bucket=5, n_target_trajectories=8, sensitivity=(4,), n_boot=50)


@pytest.fixture(scope="module")
def tiny_run():
    torch.manual_seed(0)
    model = RewardModel(ModelConfig()).eval()  # untrained: only the plumbing is under test
    cfg = TransferConfig(**TINY)
    return cfg, model, run_transfer(cfg, model)


def test_every_source_and_form_runs_at_every_d(tiny_run):
    cfg, _, res = tiny_run
    expected = [PLAIN, ORACLE]
    for n, suffix in ((8, ""), (4, "_D4")):
        for source in ("secret", "secret_sparse", "uniform", "shuffled", "ideal", "ideal_negative"):
            for form in ("phi", "carried", "advice"):
                if source == "ideal_negative" and form != "phi":
                    continue  # identical to ideal where only +1 rows are used
                expected.append(f"q_learning_{source}_{form}{suffix}")
    assert res.arms == expected
    assert res.success[PLAIN].shape == (2, 2, 20) and res.eval_success[arm_name("secret", "advice")].shape == (2, 2, 3)
    assert [p.n_trajectories for p in res.potentials[arm_name("uniform", "advice", 4)]] == [4, 4]
    assert (res.d_steps[4] <= res.d_steps[8]).all() and (res.d_steps[8] <= 8 * 30).all()
    assert res.visits[PLAIN].sum() == res.lengths[PLAIN].sum()


def test_report_blocks(tiny_run):
    _, _, res = tiny_run
    js = results_json(res, source_trajectories=100)
    assert js[SECRET] == js[arm_name("secret", "phi")]  # the paper's arm keeps its name
    assert js[PLAIN]["bucket_episodes"] == [5, 10, 15, 20] and "greedy_episodes_to_80" in js[PLAIN]
    assert set(js["credit_effect"]) == {"phi", "carried", "advice", "phi_sparse", "carried_sparse", "advice_sparse"}
    effect = js["credit_effect"]["advice"]
    assert effect["learned"] == arm_name("secret", "advice") and effect["control"] == arm_name("uniform", "advice")
    assert set(js["bump_share"]) == {arm_name(s, "phi") for s in ("secret", "ideal", "ideal_negative")}
    share = js["bump_share"][arm_name("ideal", "phi")][PLAIN]
    assert 0 <= share["positive"]["point"] <= 1 and 0 <= share["negative"]["point"] <= 1
    assert {r["|D|"] for r in js["sensitivity_D"]} == {4, 8}
    rows = paper_comparison(js, "tiny")
    assert any("q_learning_secret_advice vs plain" in r["quantity"] for r in rows)
    assert all(("met" in r["note"]) or ("MISSED" in r["note"]) or r["paper"] is None for r in rows)


def test_an_agent_does_not_depend_on_the_other_arms(tiny_run):
    cfg, model, res = tiny_run
    alone = run_transfer(TransferConfig(**{**TINY, "sources": ("uniform",), "forms": ("advice",),
                                           "sensitivity": (), "oracle": False}), model)
    assert alone.arms == [PLAIN, arm_name("uniform", "advice")]
    for arm in alone.arms:
        np.testing.assert_array_equal(alone.success[arm], res.success[arm])
        np.testing.assert_array_equal(alone.lengths[arm], res.lengths[arm])


def test_bump_share_counts_steps_on_positive_potential_states(tiny_run):
    _, _, res = tiny_run
    arm = arm_name("ideal", "phi")
    masks = np.stack([p.table > 0 for p in res.potentials[arm]])
    v = res.visits[PLAIN]
    by_hand = (v * masks[None]).sum(-1) / v.sum(-1)
    from secretlab import stats

    assert res.bump_share(PLAIN, arm).point == pytest.approx(stats.iqm(by_hand))
    negative = np.stack([p.table < 0 for p in res.potentials[arm]])
    by_hand = (v * negative[None]).sum(-1) / v.sum(-1)
    assert res.bump_share(PLAIN, arm, positive=False).point == pytest.approx(stats.iqm(by_hand))


@pytest.mark.parametrize("change, match", [
    ({"sources": ("secret", "oracle")}, "credit source must be one of"),
    ({"forms": ("bump",)}, "potential form must be one of"),
    ({"n_target_trajectories": 0}, "n_target_trajectories must be an integer >= 1"),
    ({"sensitivity": (0,)}, "sensitivity"),
    ({"advice_signs": "all"}, "advice"),
    ({"credit_signs": "all"}, "phi"),
    ({"cumulative_signs": "negative"}, "carried"),
    ({"sparse_threshold": 0.0}, "sparse_threshold"),
    ({"gamma": 1.5}, "gamma"),
])
def test_bad_config(change, match):
    with pytest.raises(ValueError, match=match):
        TransferConfig(**{**TINY, **change})
