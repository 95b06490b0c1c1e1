"""Reward-model checkpoints: save, verified load, the cache key, ``load_or_train``.

A cached checkpoint lives in ``reward_models/<key>/model.pt`` (key: a hash of dataset
config, model config, train config, architecture version and, for a warm start, the
starting model's key) with ``config.json`` and ``model.pt.manifest.json`` next to it.
:func:`load_or_train` verifies it through :func:`secretlab.cache.load_artifact`: the
manifest's SHA-256 and config must match. A checkpoint written before manifests is
checked against its ``config.json`` and against the model/train configs (and warm-start
key) embedded in the checkpoint itself, then gets its manifest (trust on first use, see
:mod:`secretlab.cache`). These names are importable from :mod:`secretlab.training` too.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO, Callable, Sequence

import numpy as np
import pandas as pd
import torch

from secretlab.cache import (artifact_error, artifact_path, atomic_path, atomic_write_json, config_hash,
                             config_problem, describe_error, load_artifact, load_or_build, manifest_path,
                             read_config_json, read_torch, read_verified, write_artifact)
from secretlab.determinism import RESULT_THREADS
from secretlab.model import ARCHITECTURE_VERSION, ModelConfig, RewardModel
from secretlab.training import (TrainConfig, TrainedModel, check_compatible, default_device, kept_epoch_mask,
                                model_config_for, train)

_PAYLOAD_KEYS = ("state_dict", "model_config", "train_config", "history", "confusion")


def save_checkpoint(trained: TrainedModel, path: str | Path, key_parts: Sequence[Any] | None = None) -> Path:
    """Write weights + configs + history atomically (a plain dict: loads with ``weights_only=True``).

    ``key_parts``: what the cache key hashes; given, the checkpoint is a cached artifact with a manifest.
    """
    path = Path(path)
    payload = {
        "state_dict": {k: v.detach().cpu() for k, v in trained.model.state_dict().items()},
        "model_config": asdict(trained.model_config),
        "train_config": asdict(trained.train_config),
        "history": {c: trained.history[c].tolist() for c in trained.history.columns},
        "confusion": trained.confusion.tolist(),
        "warm_start_from": trained.warm_start_from or "",
    }
    if key_parts is None:
        manifest_path(path).unlink(missing_ok=True)  # a stale manifest would reject the new file
    with atomic_path(path) if key_parts is None else write_artifact(path, key_parts) as tmp:
        torch.save(payload, tmp)
    trained.checkpoint = path
    return path


def read_payload(fh: BinaryIO) -> dict[str, Any]:
    """The checkpoint dict of an open file (``weights_only=True``); ValueError if it is not one."""
    payload = read_torch(fh)
    missing = [k for k in _PAYLOAD_KEYS if not isinstance(payload, dict) or k not in payload]
    if missing:
        raise ValueError(f"not a reward-model checkpoint: no {missing}")
    return payload


def load_checkpoint(path: str | Path, dataset: Any | None = None,
                    device: torch.device | str | None = None) -> TrainedModel:
    """Load a checkpoint (``weights_only=True``, hash-checked if it has a manifest).

    With ``dataset``, check the model can read it. A bad file raises :class:`~secretlab.cache.ArtifactError`.
    """
    return _from_payload(read_verified(path, read_payload), Path(path), dataset, device)


def _from_payload(payload: dict[str, Any], path: Path, dataset: Any | None,
                  device: torch.device | str | None) -> TrainedModel:
    try:
        model_config = ModelConfig(**payload["model_config"])
        train_config = TrainConfig(**payload["train_config"])
    except (TypeError, ValueError) as err:  # edited or foreign configs
        raise artifact_error(path, f"unreadable ({describe_error(err)})") from None
    if dataset is not None:
        try:
            check_compatible(model_config, dataset)
        except ValueError as err:
            raise ValueError(f"checkpoint {path} does not fit this dataset: {err}") from None
    try:
        model = RewardModel(model_config)
        model.load_state_dict(payload["state_dict"])
        history = pd.DataFrame(payload["history"])
        history["best"] = kept_epoch_mask(history["val_loss"].to_numpy())  # older checkpoints flagged the minimum
        confusion = np.asarray(payload["confusion"], dtype=np.int64).reshape(3, 3)
    except Exception as err:  # weights that do not fit their own config, a malformed history
        raise artifact_error(path, f"unreadable ({describe_error(err)})") from None
    model.to(torch.device(device) if device is not None else default_device()).eval()
    return TrainedModel(model, model_config, train_config, history, confusion, path,
                        payload.get("warm_start_from") or None)


def _dataset_key(dataset: Any) -> Any:
    config = getattr(dataset, "config", None)
    if config is not None:
        return config
    # No config: hash the content itself.
    return [np.asarray(dataset.obs), np.asarray(dataset.actions), np.asarray(dataset.rewards),
            np.asarray(dataset.lengths)]


def checkpoint_key(dataset: Any, model_config: ModelConfig, train_config: TrainConfig,
                   warm_start: TrainedModel | None = None) -> list[Any]:
    """What a cached checkpoint's key hashes (and its manifest records)."""
    key = [_dataset_key(dataset), model_config, train_config, {"architecture": ARCHITECTURE_VERSION},
           {"torch_threads": RESULT_THREADS}]
    if warm_start is not None:  # the starting weights are part of what was trained: key them by their own cache key
        key.append({"warm_start_from": _cache_key(warm_start)})
    return key


def checkpoint_path(dataset: Any, model_config: ModelConfig, train_config: TrainConfig,
                    warm_start: TrainedModel | None = None) -> Path:
    return _path_of(checkpoint_key(dataset, model_config, train_config, warm_start))


def _path_of(key: Sequence[Any]) -> Path:
    return artifact_path("reward_models", config_hash(*key), "model.pt")


def _cache_key(trained: TrainedModel) -> str:
    if trained.checkpoint is None:
        raise ValueError("warm_start must be a cached model (from load_or_train or source_model); "
                         "this one has no checkpoint")
    return Path(trained.checkpoint).parent.name


def _config_record(dataset: Any, model_config: ModelConfig, train_config: TrainConfig,
                   warm_start_from: str | None) -> dict[str, Any]:
    """The ``config.json`` of a cached checkpoint."""
    return {"dataset": asdict(dataset.config) if hasattr(dataset, "config") else None,
            "model_config": asdict(model_config), "train_config": asdict(train_config),
            "warm_start_from": warm_start_from}


def _legacy_problem(path: Path, record: dict[str, Any]) -> Callable[[dict[str, Any]], str | None]:
    """The check of a checkpoint without a manifest: its config.json and its embedded configs."""
    def check(payload: dict[str, Any]) -> str | None:
        recorded = read_config_json(path)
        if recorded is None:
            return "config unknown: it has no manifest and no config.json saying which config it was made from"
        if isinstance(recorded, dict):
            recorded = {"warm_start_from": None, **recorded}  # written before warm starts existed
        embedded = {"model_config": payload["model_config"], "train_config": payload["train_config"],
                    "warm_start_from": payload.get("warm_start_from") or None}
        return (config_problem("its config.json", recorded, record)
                or config_problem("the checkpoint itself", embedded, {k: record[k] for k in embedded}))
    return check


def load_or_train(dataset: Any, model_config: ModelConfig | None = None, train_config: TrainConfig | None = None,
                  progress: bool = True, refresh: bool = False,
                  warm_start: TrainedModel | None = None) -> TrainedModel:
    """The cached model for (dataset config, model config, train config), training it if needed.

    ``warm_start``: a cached model whose weights training starts from (it must have the same
    architecture); its cache key joins this model's key. The cached checkpoint is verified
    (:func:`secretlab.cache.load_artifact`); a bad one raises :class:`~secretlab.cache.ArtifactError`
    and is left in place. ``refresh=True`` retrains and replaces it.
    """
    model_config = model_config or model_config_for(dataset)
    train_config = train_config or TrainConfig()
    key = checkpoint_key(dataset, model_config, train_config, warm_start)
    path = _path_of(key)
    record = _config_record(dataset, model_config, train_config,
                            None if warm_start is None else _cache_key(warm_start))
    # two processes asking for the same model: one trains, the other waits and loads it
    return load_or_build(
        path, lambda: path.exists() and not refresh,
        lambda: _from_payload(load_artifact(path, key, read_payload, _legacy_problem(path, record)), path, dataset,
                              None),
        lambda: _train_and_save(dataset, model_config, train_config, progress, refresh, warm_start, path, key, record))


def _train_and_save(dataset: Any, model_config: ModelConfig, train_config: TrainConfig, progress: bool,
                    refresh: bool, warm_start: TrainedModel | None, path: Path, key: Any, record: dict) -> TrainedModel:
    """Train (from the resume point if one is there) and save the checkpoint; the caller holds its lock."""
    resume = path.with_name("resume.pt")  # per-epoch resume point: an interrupted run continues here
    if refresh:
        resume.unlink(missing_ok=True)
    initial = None
    if warm_start is not None:
        if warm_start.model_config != model_config:
            raise ValueError(f"warm_start has model config {warm_start.model_config}, this model {model_config}: "
                             "a warm start needs the same architecture")
        initial = {k: v.detach().cpu() for k, v in warm_start.model.state_dict().items()}
    try:
        trained = train(dataset, model_config, train_config, progress=progress, resume_path=resume,
                        initial_state=initial)
    except FloatingPointError:
        resume.unlink(missing_ok=True)  # resuming would only run into the same NaN: cache nothing
        raise
    trained.warm_start_from = record["warm_start_from"]
    atomic_write_json(path.with_name("config.json"), record)  # describes the folder: safe to write first
    save_checkpoint(trained, path, key)
    resume.unlink(missing_ok=True)
    return trained
