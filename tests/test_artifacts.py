"""Cached artifacts are verified before use: content hash + config in a manifest, one clear error.

Datasets and reward-model checkpoints: swapped, edited, truncated, corrupt JSON, legacy (no manifest)
and an interrupted write; plus ``secretlab cache verify`` / ``secretlab cache clean`` as subprocesses.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import secretlab.cache as cache
from secretlab.cache import ArtifactError, atomic_write_json, file_sha256, key_of, manifest_path
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.envs import TriggersConfig
from secretlab.model import ModelConfig
from secretlab.checkpoints import checkpoint_path, load_checkpoint, load_or_train, save_checkpoint
from secretlab.training import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
MODEL = ModelConfig(d_model=16, d_ff=16)


def _config(seed: int = 0) -> DatasetConfig:
    return DatasetConfig(TriggersConfig(5, 1, 1, max_steps=20), n_trajectories=16, seed=seed)


def _train_config(seed: int = 0) -> TrainConfig:
    return TrainConfig(max_epochs=1, batch_size=8, seed=seed)


def _data_file(config: DatasetConfig) -> Path:
    return cache.artifact_path("datasets", cache.config_hash(config), "data.npz")


def _model(dataset, seed: int = 0):
    return load_or_train(dataset, MODEL, _train_config(seed), progress=False)


def _bad(call, path: Path, *words: str) -> str:
    """``call()`` raises ArtifactError naming ``path``, the rebuild options and ``words``; never weights_only=False."""
    with pytest.raises(ArtifactError) as info:
        call()
    message = str(info.value)
    assert str(path) in message and "weights_only=False" not in message and "allow_pickle" not in message
    assert "refresh=True" in message and "secretlab cache clean" in message
    for word in words:
        assert word in message, message
    assert path.exists()  # a bad artifact is never deleted automatically
    return message


def _flip_byte(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _no_training(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("retrained a cached model")

    monkeypatch.setattr("secretlab.checkpoints.train", fail)


# ====================================================================== datasets
def test_dataset_manifest_records_hash_and_config(fresh_cache):
    load_or_collect(_config())
    path = _data_file(_config())
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["file"] == "data.npz" and manifest["sha256"] == file_sha256(path)
    assert manifest["recorded"] == "written" and manifest["bytes"] == path.stat().st_size
    assert key_of(manifest["config"]) == path.parent.name  # the config re-derives the cache key
    assert load_or_collect(_config()).config == _config()


def test_edited_dataset_is_rejected_and_refresh_rebuilds_it(fresh_cache):
    first = load_or_collect(_config())
    path = _data_file(_config())
    _flip_byte(path)
    _bad(lambda: load_or_collect(_config()), path, "hash mismatch")
    rebuilt = load_or_collect(_config(), refresh=True)
    np.testing.assert_array_equal(rebuilt.obs, first.obs)
    np.testing.assert_array_equal(load_or_collect(_config()).obs, first.obs)


def test_truncated_dataset_is_rejected(fresh_cache):
    load_or_collect(_config())
    path = _data_file(_config())
    _truncate(path)
    _bad(lambda: load_or_collect(_config()), path, "hash mismatch")
    manifest_path(path).unlink()  # as a legacy file: it does not even load
    _bad(lambda: load_or_collect(_config()), path, "unreadable", "BadZipFile")


def test_swapped_dataset_is_rejected(fresh_cache):
    load_or_collect(_config(0))
    load_or_collect(_config(1))
    mine, other = _data_file(_config(0)), _data_file(_config(1))
    shutil.copyfile(other, mine)  # another config's file, this folder's manifest
    _bad(lambda: load_or_collect(_config(0)), mine, "hash mismatch")
    shutil.copyfile(manifest_path(other), manifest_path(mine))  # ... with its own manifest
    _bad(lambda: load_or_collect(_config(0)), mine, "config mismatch", "seed")
    manifest_path(mine).unlink()  # ... as a legacy file: its embedded config gives it away
    _bad(lambda: load_or_collect(_config(0)), mine, "config mismatch", "the dataset itself", "seed")


def test_corrupt_dataset_manifest_or_config_json_is_rejected(fresh_cache):
    load_or_collect(_config())
    path = _data_file(_config())
    manifest_path(path).write_text('{"sha256": ')
    message = _bad(lambda: load_or_collect(_config()), path, "unreadable manifest", "JSONDecodeError")
    assert str(manifest_path(path)) in message
    manifest_path(path).unlink()
    path.with_name("config.json").write_text("not json")
    message = _bad(lambda: load_or_collect(_config()), path, "unreadable", "JSONDecodeError")
    assert str(path.with_name("config.json")) in message


def test_pickled_dataset_is_rejected_without_unsafe_advice(fresh_cache):
    load_or_collect(_config())
    path = _data_file(_config())
    manifest_path(path).unlink()
    with open(path, "wb") as fh:
        np.savez(fh, obs=np.array([{"a": 1}], dtype=object))  # object arrays need pickle: never loaded
    _bad(lambda: load_or_collect(_config()), path, "unreadable", "pickled")


def test_legacy_dataset_loads_and_gets_a_manifest(fresh_cache):
    first = load_or_collect(_config())
    path = _data_file(_config())
    manifest_path(path).unlink()  # as written before manifests: data.npz + config.json
    stamp = path.stat().st_mtime_ns
    again = load_or_collect(_config())
    np.testing.assert_array_equal(again.obs, first.obs)
    assert path.stat().st_mtime_ns == stamp  # loaded, not re-collected
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["recorded"] == "adopted legacy file" and manifest["sha256"] == file_sha256(path)
    _flip_byte(path)  # from now on the hash is checked
    _bad(lambda: load_or_collect(_config()), path, "hash mismatch")


def test_interrupted_dataset_write_is_verified_as_legacy(fresh_cache, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the run dies between the artifact and its manifest

    with monkeypatch.context() as patch:
        patch.setattr(cache, "write_manifest", killed)
        with pytest.raises(KeyboardInterrupt):
            load_or_collect(_config())
    path = _data_file(_config())
    assert path.exists() and not manifest_path(path).exists()
    config_json = path.with_name("config.json").read_text()
    path.with_name("config.json").write_text(json.dumps(cache._jsonable(_config(1))))
    _bad(lambda: load_or_collect(_config()), path, "config mismatch", "config.json")  # still checked by config
    path.with_name("config.json").write_text(config_json)
    assert load_or_collect(_config()).config == _config()
    assert json.loads(manifest_path(path).read_text())["recorded"] == "adopted legacy file"


# ================================================================== checkpoints
@pytest.fixture
def dataset(fresh_cache):
    return load_or_collect(_config())


def test_checkpoint_manifest_records_hash_and_config(dataset):
    trained = _model(dataset)
    manifest = json.loads(manifest_path(trained.checkpoint).read_text())
    assert manifest["sha256"] == file_sha256(trained.checkpoint)
    assert key_of(manifest["config"]) == trained.checkpoint.parent.name


def test_swapped_checkpoint_is_rejected(dataset):
    mine, other = _model(dataset, 0).checkpoint, _model(dataset, 1).checkpoint
    shutil.copyfile(other, mine)
    _bad(lambda: _model(dataset, 0), mine, "hash mismatch")
    shutil.copyfile(manifest_path(other), manifest_path(mine))
    _bad(lambda: _model(dataset, 0), mine, "config mismatch", "seed")
    manifest_path(mine).unlink()  # legacy: the configs inside the checkpoint give it away
    _bad(lambda: _model(dataset, 0), mine, "config mismatch", "the checkpoint itself", "train_config.seed")


def test_edited_checkpoint_is_rejected_and_refresh_rebuilds_it(dataset, monkeypatch):
    first = _model(dataset)
    _flip_byte(first.checkpoint)
    _bad(lambda: _model(dataset), first.checkpoint, "hash mismatch")
    rebuilt = load_or_train(dataset, MODEL, _train_config(), progress=False, refresh=True)
    _no_training(monkeypatch)
    again = _model(dataset)
    for k, v in rebuilt.model.state_dict().items():
        assert torch.equal(v.cpu(), again.model.state_dict()[k].cpu())


def test_truncated_checkpoint_is_rejected(dataset):
    path = _model(dataset).checkpoint
    _truncate(path)
    _bad(lambda: _model(dataset), path, "hash mismatch")
    manifest_path(path).unlink()
    _bad(lambda: _model(dataset), path, "unreadable (")  # the loader's error class and message follow
    _bad(lambda: load_checkpoint(path), path, "unreadable (")


def test_corrupt_checkpoint_manifest_or_config_json_is_rejected(dataset):
    path = _model(dataset).checkpoint
    manifest_path(path).write_text("[1, 2")
    _bad(lambda: _model(dataset), path, "unreadable manifest")
    manifest_path(path).unlink()
    path.with_name("config.json").write_text("{")
    _bad(lambda: _model(dataset), path, "unreadable", str(path.with_name("config.json")))


def test_pickled_object_is_rejected_without_unsafe_advice(dataset, tmp_path):
    path = _model(dataset).checkpoint
    manifest_path(path).unlink()
    torch.save({"state_dict": ModelConfig()}, path)  # an arbitrary object: weights_only refuses it
    message = _bad(lambda: _model(dataset), path, "unreadable", "UnpicklingError")
    assert "weights_only" not in message
    loose = tmp_path / "loose.pt"  # outside the cache: same error, other advice
    shutil.copyfile(path, loose)
    with pytest.raises(ArtifactError, match="UnpicklingError") as info:
        load_checkpoint(loose)
    assert str(loose) in str(info.value) and "weights_only" not in str(info.value)


def test_legacy_checkpoint_loads_without_retraining_and_gets_a_manifest(dataset, monkeypatch):
    trained = _model(dataset)
    path = trained.checkpoint
    # Exactly what the code before manifests left: save_checkpoint's file and a config.json
    # (before warm starts, without "warm_start_from"); no manifest.
    manifest_path(path).unlink()
    save_checkpoint(trained, path)
    record = json.loads(path.with_name("config.json").read_text())
    atomic_write_json(path.with_name("config.json"), {k: v for k, v in record.items() if k != "warm_start_from"})
    assert not manifest_path(path).exists()
    _no_training(monkeypatch)
    again = _model(dataset)
    for k, v in trained.model.state_dict().items():
        assert torch.equal(v.cpu(), again.model.state_dict()[k].cpu())
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["recorded"] == "adopted legacy file" and manifest["sha256"] == file_sha256(path)
    assert key_of(manifest["config"]) == path.parent.name


def test_legacy_checkpoint_of_a_dataset_without_config_loads(fresh_cache, monkeypatch):
    rng = np.random.default_rng(0)  # no .config: the key hashes the arrays, config.json records "dataset": null
    data = SimpleNamespace(obs=rng.integers(0, 2, (12, 6, 3, 3, 3)).astype(np.uint8),
                           actions=rng.integers(0, 4, (12, 6)), rewards=np.zeros((12, 6), np.float32),
                           lengths=np.full(12, 6))
    path = _model(data).checkpoint
    manifest_path(path).unlink()
    _no_training(monkeypatch)
    assert _model(data).checkpoint == path and manifest_path(path).exists()


def test_interrupted_checkpoint_write_is_verified_as_legacy(dataset, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(cache, "write_manifest", killed)
        with pytest.raises(KeyboardInterrupt):
            _model(dataset)
    path = checkpoint_path(dataset, MODEL, _train_config())
    assert path.exists() and not manifest_path(path).exists()
    _no_training(monkeypatch)
    record = json.loads(path.with_name("config.json").read_text())
    path.with_name("config.json").write_text(json.dumps({**record, "train_config": {**record["train_config"],
                                                                                    "lr": 0.5}}))
    _bad(lambda: _model(dataset), path, "config mismatch", "train_config.lr")  # still checked by config
    path.with_name("config.json").write_text(json.dumps(record))
    assert _model(dataset).checkpoint == path
    assert json.loads(manifest_path(path).read_text())["recorded"] == "adopted legacy file"


# ========================================================================== CLI
def _cli(cache_folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SECRETLAB_CACHE": str(cache_folder)}
    return subprocess.run([sys.executable, "-m", "secretlab", "cache", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_cache_verify_lists_bad_artifacts(dataset, fresh_cache):
    _model(dataset)
    ok = _cli(fresh_cache, "verify")
    assert ok.returncode == 0 and "2 ok, 0 bad, 0 without a manifest" in ok.stdout, ok.stdout + ok.stderr
    path = _data_file(_config())
    _flip_byte(path)
    legacy = load_or_collect(_config(1))
    legacy_path = _data_file(legacy.config)
    manifest_path(legacy_path).unlink()
    copied = path.parent.parent / "0123456789abcdef"  # a whole entry copied to another key
    shutil.copytree(_data_file(_config()).parent, copied)
    (copied / "data.npz").write_bytes(legacy_path.read_bytes())
    shutil.copyfile(manifest_path(path), manifest_path(copied / "data.npz"))
    bad = _cli(fresh_cache, "verify")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"BAD {path}: hash mismatch" in bad.stdout
    assert f"BAD {copied / 'data.npz'}: config mismatch" in bad.stdout
    assert "1 ok, 2 bad, 1 without a manifest" in bad.stdout and "refresh=True" in bad.stdout
    assert path.exists()  # verify changes nothing


def test_cache_clean_by_kind_then_all(dataset, fresh_cache):
    _model(dataset)
    (fresh_cache / "notes").mkdir()
    (fresh_cache / "notes" / "mine.txt").write_text("not a cache entry")
    asked = _cli(fresh_cache, "clean")  # no --yes, no terminal: nothing removed
    assert asked.returncode == 1 and "pass --yes" in asked.stdout
    assert (fresh_cache / "datasets").exists()
    one = _cli(fresh_cache, "clean", "--kind", "datasets", "--yes")
    assert one.returncode == 0 and f"removed {fresh_cache / 'datasets'}" in one.stdout, one.stdout + one.stderr
    assert not (fresh_cache / "datasets").exists() and (fresh_cache / "reward_models").exists()
    unknown = _cli(fresh_cache, "clean", "--kind", "nope", "--yes")
    assert unknown.returncode == 2 and "no such kind" in unknown.stderr and "reward_models" in unknown.stderr
    everything = _cli(fresh_cache, "clean", "--yes")
    assert everything.returncode == 0 and f"removed {fresh_cache / 'reward_models'}" in everything.stdout
    assert "left alone" in everything.stdout and (fresh_cache / "notes" / "mine.txt").exists()
    assert sorted(p.name for p in fresh_cache.iterdir()) == ["notes"]
