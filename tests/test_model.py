"""Reward model and training: loss value by hand, causality, masking, determinism, checkpoints."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from secretlab.model import ModelConfig, RewardModel, sequence_loss
from secretlab.checkpoints import load_checkpoint, load_or_train, save_checkpoint
from secretlab.training import TrainConfig, _bucketed, confusion_metrics, kept_epoch_mask, train


def _batch(B=2, T=6, seed=0, obs_shape=(3, 3, 3), n_actions=4, lengths=(6, 4)):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randint(0, 2, (B, T, *obs_shape), generator=g, dtype=torch.uint8)
    actions = torch.randint(0, n_actions, (B, T), generator=g)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    actions[~mask] = -1
    return obs, actions, mask


def _model(**kw) -> RewardModel:
    torch.manual_seed(0)
    return RewardModel(ModelConfig(**kw)).eval()


def test_loss_matches_hand_computation():
    # Uniform logits: every step costs w(c)·log 3; each trajectory is divided by its own length.
    logits = torch.zeros(2, 3, 3)
    signs = torch.tensor([[0, 1, 0], [-1, 0, 0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    expected = ((0.02 + 0.499) * math.log(3) / 2 + (0.499 + 0.02 + 0.02) * math.log(3) / 3) / 2
    assert sequence_loss(logits, signs, mask).item() == pytest.approx(expected, rel=1e-6)
    # A confident correct prediction costs ~0; padding (step 2 of row 0, label 0 but logits wrong) is ignored.
    logits = torch.tensor([[[0, 0, 50.0], [0, 0, 50.0], [50.0, 0, 0]]])
    assert sequence_loss(logits, torch.tensor([[1, 1, 0]]), torch.tensor([[True, True, False]])).item() < 1e-6


def test_loss_rejects_bad_weights():
    with pytest.raises(ValueError, match="class_weights"):
        sequence_loss(torch.zeros(1, 2, 3), torch.zeros(1, 2, dtype=torch.long), torch.ones(1, 2, dtype=bool),
                      class_weights=(1.0, 1.0))


def test_attention_rows_sum_to_one_and_padding_gets_nothing():
    model = _model()
    obs, actions, mask = _batch()
    logits, att = model(obs, actions, mask)
    assert logits.shape == (2, 6, 3) and att.shape == (2, 6, 6)
    sums = att.sum(-1)
    assert torch.allclose(sums[mask], torch.ones(int(mask.sum())), atol=1e-5)
    assert (sums[~mask] == 0).all()
    assert (att[1, :, 4:] == 0).all()                       # padding columns never attended
    assert (att.triu(diagonal=1) == 0).all()                # no attention to the future


def test_causality_future_inputs_change_nothing_up_to_t():
    model = _model()
    obs, actions, mask = _batch(lengths=(6, 6))
    logits, att = model(obs, actions, mask)
    t = 2
    obs2, actions2 = obs.clone(), actions.clone()
    obs2[:, t + 1:] = 1 - obs2[:, t + 1:]
    actions2[:, t + 1:] = (actions2[:, t + 1:] + 1) % 4
    logits2, att2 = model(obs2, actions2, mask)
    assert torch.allclose(logits[:, : t + 1], logits2[:, : t + 1], atol=1e-6)
    assert torch.allclose(att[:, : t + 1], att2[:, : t + 1], atol=1e-6)
    assert not torch.allclose(logits[:, t + 1:], logits2[:, t + 1:])  # the change did reach later steps


def test_padding_content_is_ignored():
    model = _model()
    obs, actions, mask = _batch()
    logits, att = model(obs, actions, mask)
    obs2 = obs.clone()
    obs2[1, 4:] = 1
    logits2, att2 = model(obs2, actions, mask)
    assert torch.allclose(logits[mask], logits2[mask], atol=1e-6)
    assert torch.allclose(att, att2, atol=1e-6)


def test_minigrid_like_inputs():
    model = _model(obs_shape=(3, 7, 7), n_actions=7, conv_channels=(16, 16), obs_scale=10.0)
    obs, actions, mask = _batch(obs_shape=(3, 7, 7), n_actions=7)
    logits, att = model(obs * 5, actions, mask)
    assert logits.shape == (2, 6, 3) and torch.isfinite(logits).all()


def test_bad_inputs_raise_value_errors():
    model = _model()
    obs, actions, mask = _batch()
    with pytest.raises(ValueError, match="obs"):
        model(obs[:, :, :2], actions, mask)
    with pytest.raises(ValueError, match="conv_kernel"):
        ModelConfig(conv_kernel=2)
    with pytest.raises(ValueError, match="dropout_attn"):
        ModelConfig(dropout_attn=1.5)
    with pytest.raises(ValueError, match="val_fraction"):
        TrainConfig(val_fraction=0.0)


def test_confusion_metrics_by_hand():
    confusion = np.array([[2, 1, 0], [0, 6, 0], [0, 2, 3]])
    m = confusion_metrics(confusion)
    assert m["precision_neg"] == 1.0 and m["recall_neg"] == pytest.approx(2 / 3)
    assert m["precision_zero"] == pytest.approx(6 / 9) and m["recall_zero"] == 1.0
    assert m["precision_pos"] == 1.0 and m["recall_pos"] == pytest.approx(3 / 5)


def test_kept_epoch_is_the_last_clear_improvement_not_the_minimum():
    # 1e-5 -> 3e-6 improves (by 7e-6); 2.5e-6 is lower but within MIN_IMPROVEMENT (1e-6), and so is 2.1e-6:
    # early stopping keeps epoch 2's weights, so epoch 2 is the one flagged.
    assert kept_epoch_mask(np.array([1e-5, 3e-6, 2.5e-6, 2.1e-6])).tolist() == [False, True, False, False]
    assert kept_epoch_mask(np.array([0.5, 0.4, 0.6, 0.3])).tolist() == [False, False, False, True]
    assert kept_epoch_mask(np.array([np.nan, np.nan])).tolist() == [False, False]


def test_bucketing_covers_every_index_once():
    lengths = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6, 10])
    index = np.arange(10)
    batches = _bucketed(index, lengths, TrainConfig(batch_size=3, bucket_batches=2), torch.Generator().manual_seed(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    assert max(len(b) for b in batches) == 3


def _toy_dataset(n=24, T=8, seed=0):
    """Prize visible in the crop's centre column at the step of a +1: learnable, tiny."""
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 2, (n, T, 3, 3, 3)).astype(np.uint8)
    actions = rng.integers(0, 4, (n, T))
    lengths = rng.integers(3, T + 1, n)
    rewards = np.zeros((n, T), np.float32)
    for i in range(n):
        rewards[i, lengths[i] - 1] = 1.0 if i % 2 else -1.0
        actions[i, lengths[i]:] = -1
    return SimpleNamespace(obs=obs, actions=actions, rewards=rewards, lengths=lengths)


def test_training_is_deterministic_per_seed():
    data = _toy_dataset()
    cfg = ModelConfig(d_model=16, d_ff=16)
    tc = TrainConfig(max_epochs=2, batch_size=8, seed=3)
    a = train(data, cfg, tc, progress=False, device="cpu")
    b = train(data, cfg, tc, progress=False, device="cpu")
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    assert list(a.history.columns[:3]) == ["epoch", "train_loss", "val_loss"]
    assert a.confusion.shape == (3, 3) and a.confusion.sum() > 0


def test_interrupted_training_resumes_to_the_same_model(tmp_path, monkeypatch):
    """Kill training during epoch 3 of 4; the rerun continues from the epoch-2 resume point and ends
    with exactly the weights and losses of an uninterrupted run."""
    import secretlab.training as training

    data = _toy_dataset()
    cfg = ModelConfig(d_model=16, d_ff=16)
    tc = TrainConfig(max_epochs=4, patience=4, batch_size=8, seed=5)
    whole = train(data, cfg, tc, progress=False, device="cpu")

    resume = tmp_path / "resume.pt"
    real_evaluate, calls = training.evaluate, []

    def crash_in_epoch_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate", crash_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        train(data, cfg, tc, progress=False, device="cpu", resume_path=resume)
    monkeypatch.setattr(training, "evaluate", real_evaluate)
    assert torch.load(resume, weights_only=True)["epoch"] == 2

    resumed = train(data, cfg, tc, progress=False, device="cpu", resume_path=resume)
    for k, v in whole.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    cols = ["epoch", "train_loss", "val_loss"]
    assert whole.history[cols].equals(resumed.history[cols])
    assert np.array_equal(whole.confusion, resumed.confusion)


def test_warm_start_begins_from_the_given_weights():
    data = _toy_dataset()
    cfg = ModelConfig(d_model=16, d_ff=16)
    torch.manual_seed(123)
    start = {k: v.clone() for k, v in RewardModel(cfg).state_dict().items()}
    warm = train(data, cfg, TrainConfig(max_epochs=1, batch_size=8, lr=1e-12), progress=False, device="cpu",
                 initial_state=start)
    cold = train(data, cfg, TrainConfig(max_epochs=1, batch_size=8, lr=1e-12), progress=False, device="cpu")
    w = warm.model.state_dict()
    assert all(torch.allclose(w[k], start[k], atol=1e-6) for k in start)
    assert not torch.allclose(cold.model.state_dict()["head.weight"], start["head.weight"], atol=1e-3)


def test_source_model_warm_starts_scenarios_with_several_triggers(tmp_path, monkeypatch):
    from secretlab.envs.triggers import TriggersConfig
    from secretlab.profiles import reward_model_recipe
    from secretlab.experiments.source import source_model

    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    tiny = {"n_train_trajectories": 30, "d_model": 16, "d_ff": 16}
    base = source_model(TriggersConfig(5, 1, 1), "smoke", 0, progress=False, **tiny)  # one step at lr 3e-4
    assert base.warm_start_from is None  # one trigger: nothing to start from
    profile_warm = source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False, **tiny)
    assert profile_warm.warm_start_from == base.checkpoint.parent.name
    changes = reward_model_recipe("smoke").warm_start.changes()
    assert all(getattr(profile_warm.train_config, k) == v for k, v in changes.items())

    # Fine-tuning at lr 1e-12 barely moves the weights: the model must still hold the base's weights,
    # which one Adam step moved ~3e-4 away from the shared seed-0 init that a fresh start keeps.
    frozen = source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False,
                          warm_start={**changes, "lr": 1e-12}, **tiny)
    assert frozen.warm_start_from == base.checkpoint.parent.name and frozen.checkpoint != profile_warm.checkpoint
    b = base.model.state_dict()
    assert all(torch.allclose(v, b[k], atol=1e-7) for k, v in frozen.model.state_dict().items())
    cold = source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False, warm_start=False,
                        **{**tiny, "lr": 1e-12})
    assert cold.warm_start_from is None
    assert not torch.allclose(cold.model.state_dict()["head.weight"], b["head.weight"], atol=1e-5)
    again = source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False, **tiny)  # from the cache
    assert again.checkpoint == profile_warm.checkpoint and again.warm_start_from == base.checkpoint.parent.name
    with pytest.raises(ValueError, match="warm_start"):
        source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False, warm_start={"colour": 1}, **tiny)


def test_warm_start_can_size_the_fine_tuning_set_alone(tmp_path, monkeypatch):
    import json

    from secretlab.envs.triggers import TriggersConfig
    from secretlab.profiles import reward_model_recipe
    from secretlab.experiments.source import source_model

    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    narrow = {"d_model": 16, "d_ff": 16}
    changes = {**reward_model_recipe("smoke").warm_start.changes(), "n_train_trajectories": 40}
    tuned = source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False, warm_start=changes, **narrow)

    def n_trajectories(trained):
        return json.loads(trained.checkpoint.with_name("config.json").read_text())["dataset"]["n_trajectories"]

    base = source_model(TriggersConfig(5, 1, 1), "smoke", 0, progress=False, **narrow)
    assert tuned.warm_start_from == base.checkpoint.parent.name  # the start model is the profile's own
    assert n_trajectories(tuned) == 40
    assert n_trajectories(base) == reward_model_recipe("smoke").n_train_trajectories == 200
    # an explicit override still sizes both, and wins over the dict
    both = source_model(TriggersConfig(5, 2, 1), "smoke", 0, progress=False, warm_start=changes,
                        n_train_trajectories=30, **narrow)
    assert n_trajectories(both) == 30
    assert n_trajectories(source_model(TriggersConfig(5, 1, 1), "smoke", 0, progress=False,
                                       n_train_trajectories=30, **narrow)) == 30
    assert both.warm_start_from != tuned.warm_start_from


def test_load_or_train_rejects_a_warm_start_of_another_architecture(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    data = _toy_dataset()
    small = load_or_train(data, ModelConfig(d_model=16, d_ff=16), TrainConfig(max_epochs=1, batch_size=8),
                          progress=False)
    with pytest.raises(ValueError, match="same architecture"):
        load_or_train(data, ModelConfig(d_model=32, d_ff=16), TrainConfig(max_epochs=1, batch_size=8),
                      progress=False, warm_start=small)


def test_load_or_train_removes_its_resume_point(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    trained = load_or_train(_toy_dataset(), ModelConfig(d_model=16, d_ff=16), TrainConfig(max_epochs=2, batch_size=8),
                            progress=False)
    assert trained.checkpoint.exists() and not trained.checkpoint.with_name("resume.pt").exists()


def test_checkpoint_round_trip_and_mismatch(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    data = _toy_dataset()
    cfg = ModelConfig(d_model=16, d_ff=16)
    tc = TrainConfig(max_epochs=1, batch_size=8)
    trained = load_or_train(data, cfg, tc, progress=False)
    assert trained.checkpoint is not None and trained.checkpoint.exists()
    again = load_or_train(data, cfg, tc, progress=False)   # from the cache
    assert again.checkpoint == trained.checkpoint
    for k, v in trained.model.state_dict().items():
        assert torch.equal(v.cpu(), again.model.state_dict()[k].cpu())
    assert again.model_config == cfg and again.train_config == tc
    other = SimpleNamespace(obs=np.zeros((2, 8, 3, 7, 7), np.uint8), actions=np.zeros((2, 8), np.int64),
                            rewards=np.zeros((2, 8), np.float32), lengths=np.array([8, 8]))
    with pytest.raises(ValueError, match="does not fit"):
        load_checkpoint(trained.checkpoint, other)
    path = save_checkpoint(trained, tmp_path / "copy.pt")
    assert load_checkpoint(path, data).model_config == cfg


def test_learning_rate_schedules():
    from secretlab.training import TrainConfig, learning_rate

    const = TrainConfig(lr=1e-3, max_epochs=10)
    assert learning_rate(const, 0.0) == learning_rate(const, 9.9) == 1e-3
    cos = TrainConfig(lr=1e-3, max_epochs=11, lr_schedule="cosine", warmup_epochs=1)
    assert learning_rate(cos, 0.0) == 0.0 and learning_rate(cos, 0.5) == pytest.approx(5e-4)
    assert learning_rate(cos, 1.0) == pytest.approx(1e-3)
    assert learning_rate(cos, 6.0) == pytest.approx(5e-4)  # half-way through the decay
    assert learning_rate(cos, 11.0) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="warmup_epochs"):
        TrainConfig(max_epochs=3, warmup_epochs=5)
