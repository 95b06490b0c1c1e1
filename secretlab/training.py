"""Training the SECRET reward model: offline, supervised, deterministic per seed.

``train`` fits a :class:`~secretlab.model.RewardModel` on a trajectory dataset
(any object with ``.obs (N, T, *obs_shape)``, ``.actions (N, T)`` with -1 padding,
``.rewards (N, T)`` and ``.lengths (N,)``), with a validation split, early
stopping on the validation loss and per-epoch metrics. ``load_or_train`` caches
the checkpoint under a hash of (dataset config, model config, train config) and
verifies it on load; it and the checkpoint functions live one layer up, in :mod:`secretlab.checkpoints`
(which imports this module, never the other way round). The profile's shared model of a maze distribution,
``source_model``, is resolved above this layer, in :mod:`secretlab.experiments.source`.

Speed: batches are formed from length-sorted buckets and trimmed to their longest
trajectory, so a batch carries little padding (random 8×8 trajectories are ~110
steps long on average in a T = 200 array).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import torch

from secretlab.cache import atomic_path, read_torch, read_verified
from secretlab.model import PAPER_CLASS_WEIGHTS, ModelConfig, RewardModel, sequence_loss
from secretlab.progress import progress_bar
from secretlab.validation import check_finite_loss, check_int, check_number, is_number


LR_SCHEDULES = ("constant", "cosine")
#: Early stopping counts an epoch as an improvement only when the validation loss drops by more than this.
MIN_IMPROVEMENT = 1e-6


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation of the reward model (the paper leaves all of these open)."""

    batch_size: int = 32
    """Trajectories per gradient step (32: more updates per epoch; the CPU budget is in epochs)."""
    lr: float = 1e-3
    """AdamW peak learning rate."""
    lr_schedule: str = "constant"
    """"constant", or "cosine": linear warm-up over ``warmup_epochs``, then cosine decay to 0 at ``max_epochs``."""
    warmup_epochs: float = 0.0
    """Epochs of linear warm-up from 0 to ``lr`` (both schedules)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_epochs: int = 12
    """Upper bound on passes over the training split."""
    patience: int = 3
    """Stop after this many epochs without a validation-loss improvement of more than ``MIN_IMPROVEMENT``
    (the weights of the last improving epoch are kept)."""
    val_fraction: float = 0.1
    """Share of trajectories held out for validation / early stopping."""
    class_weights: tuple[float, float, float] = PAPER_CLASS_WEIGHTS
    """Loss weights w(-1), w(0), w(+1) (paper: 0.499, 0.02, 0.499)."""
    grad_clip: float = 1.0
    """Max global gradient norm."""
    bucket_batches: int = 16
    """Length-sorting window: shuffle, then sort by length within chunks of this many batches."""
    seed: int = 0
    """Seeds weight init, dropout, the validation split and batch order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_weights", tuple(float(w) for w in self.class_weights))
        for name in ("batch_size", "max_epochs", "patience", "bucket_batches"):
            check_int(name, getattr(self, name), minimum=1)
        check_number("lr", self.lr, 0, open_low=True)  # inf/NaN would train a NaN model and cache it
        check_number("weight_decay", self.weight_decay, 0)
        check_number("grad_clip", self.grad_clip, 0, open_low=True, finite=False)  # inf: no clipping
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if not is_number(self.warmup_epochs) or not 0.0 <= self.warmup_epochs <= self.max_epochs:
            raise ValueError(f"warmup_epochs must be in [0, max_epochs={self.max_epochs}], got {self.warmup_epochs}")
        if not is_number(self.val_fraction) or not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if len(self.class_weights) != 3 or not all(math.isfinite(w) and w >= 0 for w in self.class_weights):
            raise ValueError(f"class_weights must be 3 finite non-negative numbers, got {self.class_weights}")


def learning_rate(config: TrainConfig, progress: float) -> float:
    """The learning rate after ``progress`` epochs (a float: epoch - 1 + share of its batches done)."""
    if config.warmup_epochs > 0 and progress < config.warmup_epochs:
        return config.lr * progress / config.warmup_epochs
    if config.lr_schedule == "constant":
        return config.lr
    span = max(config.max_epochs - config.warmup_epochs, 1e-9)
    done = min(max((progress - config.warmup_epochs) / span, 0.0), 1.0)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * done))


@dataclass
class TrainedModel:
    """A trained reward model with its configs, learning curves and validation confusion matrix."""

    model: RewardModel
    model_config: ModelConfig
    train_config: TrainConfig
    history: pd.DataFrame
    """One row per epoch: train_loss, val_loss, precision/recall per sign class, seconds, ..."""
    confusion: np.ndarray
    """(3, 3) int64 on validation real steps: rows = true sign (-1, 0, +1), columns = predicted."""
    checkpoint: Path | None = None
    """Where the checkpoint lives (None if not saved)."""
    warm_start_from: str | None = None
    """Cache key (folder name) of the checkpoint whose weights training started from; None: a fresh init."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ===================================================================== algorithm
def train(dataset: Any, model_config: ModelConfig | None = None, train_config: TrainConfig | None = None,
          progress: bool = True, device: torch.device | str | None = None,
          resume_path: str | Path | None = None,
          initial_state: dict[str, torch.Tensor] | None = None) -> TrainedModel:
    """Fit a reward model on ``dataset`` (see module docstring for the expected fields).

    ``resume_path``: where to keep a resume point, rewritten atomically after every epoch
    (weights, optimizer, best weights, history, RNG states). If the file exists, training
    continues from it, so an interrupted run loses at most the epoch in progress, and the
    result is the same as an uninterrupted run (on CPU). The caller deletes it when done.
    ``initial_state``: start from these weights instead of a fresh init (a warm start, e.g.
    from a model of an easier scenario; not cached by :func:`load_or_train`).
    """
    model_config = model_config or model_config_for(dataset)
    train_config = train_config or TrainConfig()
    check_compatible(model_config, dataset)
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(train_config.seed)
    generator = torch.Generator().manual_seed(train_config.seed)

    n = len(dataset.lengths)
    n_val = max(1, int(round(n * train_config.val_fraction)))
    if n - n_val < 1:
        raise ValueError(f"dataset has {n} trajectories; need at least 2 for a train/validation split")
    order = torch.randperm(n, generator=generator).numpy()
    val_idx, train_idx = np.sort(order[:n_val]), order[n_val:]
    tensors = _DatasetTensors(dataset)

    model = RewardModel(model_config).to(device)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)

    rows, best_loss, stale = [], float("inf"), 0
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best_confusion = np.zeros((3, 3), np.int64)
    first_epoch = 1
    if resume_path is not None and Path(resume_path).exists():
        first_epoch, best_state, best_loss, stale, rows, best_confusion = _load_resume_point(
            resume_path, model, optimizer, generator, device)
    bar = progress_bar(train_config.max_epochs, "train reward model", "epoch", initial=first_epoch - 1,
                       enabled=progress)
    stopped = stale >= train_config.patience
    for epoch in range(first_epoch, train_config.max_epochs + 1):
        if stopped:
            break
        start = time.perf_counter()
        train_loss = _train_epoch(model, optimizer, tensors, train_idx, train_config, generator, epoch, device)
        val = evaluate(model, tensors, val_idx, train_config, device)
        check_finite_loss("validation loss", val["loss"], epoch, None, train_config.lr)
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val["loss"],
               **val["metrics"], "seconds": time.perf_counter() - start}
        rows.append(row)
        if val["loss"] < best_loss - MIN_IMPROVEMENT:
            best_loss, stale = val["loss"], 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best_confusion = val["confusion"]
        else:
            stale += 1
        bar.update(1)
        bar.set_postfix(train=f"{row['train_loss']:.4f}", val=f"{row['val_loss']:.4f}",
                        rec_pos=f"{row['recall_pos']:.2f}")
        stopped = stale >= train_config.patience
        if resume_path is not None:
            _save_resume_point(resume_path, epoch, model, optimizer, best_state, best_loss, stale, rows,
                               best_confusion, generator)
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    history = pd.DataFrame(rows)
    history["best"] = kept_epoch_mask(history["val_loss"].to_numpy())
    return TrainedModel(model, model_config, train_config, history, best_confusion)


def _train_epoch(model: RewardModel, optimizer: torch.optim.Optimizer, tensors: "_DatasetTensors",
                 train_idx: np.ndarray, train_config: TrainConfig, generator: torch.Generator, epoch: int,
                 device: torch.device) -> float:
    """One pass over the training trajectories (length-bucketed batches); the trajectory-weighted mean loss."""
    model.train()
    total, count = 0.0, 0
    order = _bucketed(train_idx, tensors.lengths, train_config, generator)
    for i, batch in enumerate(tensors.batches(order, device)):
        for group in optimizer.param_groups:  # a function of the step alone, so a resumed run matches
            group["lr"] = learning_rate(train_config, epoch - 1 + i / len(order))
        loss = sequence_loss(model(batch.obs, batch.actions, batch.mask)[0], batch.signs, batch.mask,
                             train_config.class_weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train_config.grad_clip)
        optimizer.step()
        value = loss.item()
        check_finite_loss("training loss", value, epoch, i + 1, train_config.lr)  # before any checkpoint
        total += value * len(batch.mask)
        count += len(batch.mask)
    return total / count


def _load_resume_point(path: str | Path, model: RewardModel, optimizer: torch.optim.Optimizer,
                       generator: torch.Generator, device: torch.device) -> tuple:
    """Restore what :func:`_save_resume_point` wrote into ``model``, ``optimizer``, the RNGs; return
    ``(first_epoch, best_state, best_loss, stale, history rows, best_confusion)``."""
    point = read_verified(path, read_torch)  # a bad file: ArtifactError naming it
    model.load_state_dict(point["model"])
    optimizer.load_state_dict(point["optimizer"])
    torch.set_rng_state(point["torch_rng"])
    generator.set_state(point["generator"])
    best_state = {k: v.to(device) for k, v in point["best_state"].items()}
    return (point["epoch"] + 1, best_state, point["best_loss"], point["stale"], point["history"],
            np.asarray(point["best_confusion"], dtype=np.int64))


def kept_epoch_mask(val_loss: np.ndarray) -> np.ndarray:
    """Which epoch's weights :func:`train` keeps, as a boolean mask over epochs, shape ``(n_epochs,)``.

    The last epoch whose validation loss beat the best so far by more than ``MIN_IMPROVEMENT``:
    e.g. ``[3e-6, 9e-7, 4e-7]`` keeps epoch 2, because 4e-7 is lower but not lower by enough.
    """
    mask = np.zeros(len(val_loss), dtype=bool)
    best, kept = np.inf, None
    for i, loss in enumerate(val_loss):
        if loss < best - MIN_IMPROVEMENT:
            best, kept = loss, i
    if kept is not None:
        mask[kept] = True
    return mask


def _save_resume_point(path: str | Path, epoch: int, model: RewardModel, optimizer: torch.optim.Optimizer,
                       best_state: dict[str, torch.Tensor], best_loss: float, stale: int, rows: list[dict],
                       best_confusion: np.ndarray, generator: torch.Generator) -> None:
    """Everything :func:`train` needs to continue after ``epoch`` (plain tensors and numbers: weights_only)."""
    point = {"epoch": epoch, "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
             "optimizer": optimizer.state_dict(), "best_state": {k: v.cpu() for k, v in best_state.items()},
             "best_loss": float(best_loss), "stale": int(stale), "history": rows,
             "best_confusion": best_confusion.tolist(), "torch_rng": torch.get_rng_state(),
             "generator": generator.get_state()}
    with atomic_path(Path(path)) as tmp:
        torch.save(point, tmp)


@torch.no_grad()
def evaluate(model: RewardModel, tensors: "_DatasetTensors", index: np.ndarray, train_config: TrainConfig,
             device: torch.device) -> dict[str, Any]:
    """Validation loss (trajectory-weighted mean), confusion matrix and per-class precision/recall."""
    model.eval()
    total, count = 0.0, 0
    confusion = np.zeros((3, 3), np.int64)
    batches = [index[np.argsort(tensors.lengths[index], kind="stable")][i:i + 4 * train_config.batch_size]
               for i in range(0, len(index), 4 * train_config.batch_size)]
    for batch in tensors.batches(batches, device):
        logits, _ = model(batch.obs, batch.actions, batch.mask)
        total += sequence_loss(logits, batch.signs, batch.mask, train_config.class_weights).item() * len(batch.mask)
        count += len(batch.mask)
        true = (batch.signs + 1)[batch.mask].cpu().numpy()
        pred = logits.argmax(-1)[batch.mask].cpu().numpy()
        confusion += np.bincount(true * 3 + pred, minlength=9).reshape(3, 3)
    return {"loss": total / max(count, 1), "confusion": confusion, "metrics": confusion_metrics(confusion)}


def confusion_metrics(confusion: np.ndarray) -> dict[str, float]:
    """Per-class precision and recall from a (3, 3) confusion matrix (rows true, cols predicted).

    Keys ``precision_neg``, ``recall_neg``, ``precision_zero``, ... ; NaN when undefined.
    """
    out = {}
    for k, name in enumerate(("neg", "zero", "pos")):
        tp = confusion[k, k]
        predicted, actual = confusion[:, k].sum(), confusion[k, :].sum()
        out[f"precision_{name}"] = float(tp / predicted) if predicted else float("nan")
        out[f"recall_{name}"] = float(tp / actual) if actual else float("nan")
    return out


# ====================================================================== plumbing
@dataclass
class _Batch:
    obs: torch.Tensor
    actions: torch.Tensor
    mask: torch.Tensor
    signs: torch.Tensor


class _DatasetTensors:
    """The dataset as CPU tensors, sliced into trimmed batches on demand."""

    def __init__(self, dataset: Any) -> None:
        self.obs = torch.from_numpy(np.ascontiguousarray(dataset.obs))
        self.actions = torch.from_numpy(np.asarray(dataset.actions, dtype=np.int64))
        self.signs = torch.from_numpy(np.sign(np.asarray(dataset.rewards)).astype(np.int64))
        self.lengths = np.asarray(dataset.lengths, dtype=np.int64)
        T = self.actions.shape[1]
        self.mask = torch.from_numpy(np.arange(T)[None, :] < self.lengths[:, None])

    def batches(self, index_batches, device: torch.device) -> Iterator[_Batch]:
        for idx in index_batches:
            idx_t = torch.as_tensor(idx, dtype=torch.long)
            L = int(self.lengths[idx].max())  # trim to the longest trajectory in the batch
            yield _Batch(self.obs[idx_t, :L].to(device), self.actions[idx_t, :L].to(device),
                         self.mask[idx_t, :L].to(device), self.signs[idx_t, :L].to(device))


def _bucketed(index: np.ndarray, lengths: np.ndarray, config: TrainConfig,
              generator: torch.Generator) -> list[np.ndarray]:
    """Shuffle, sort by length inside windows of ``bucket_batches`` batches, shuffle the batches."""
    shuffled = index[torch.randperm(len(index), generator=generator).numpy()]
    window = config.batch_size * config.bucket_batches
    batches = []
    for start in range(0, len(shuffled), window):
        chunk = shuffled[start:start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + config.batch_size] for i in range(0, len(chunk), config.batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def model_config_for(dataset: Any, **changes: Any) -> ModelConfig:
    """The paper's model config with ``obs_shape`` taken from the data (plus ``changes``)."""
    return ModelConfig(**{"obs_shape": tuple(np.asarray(dataset.obs).shape[2:]), **changes})


def check_compatible(model_config: ModelConfig, dataset: Any) -> None:
    """ValueError if the model cannot read this dataset (shape, actions, length, rewards)."""
    obs_shape = tuple(np.asarray(dataset.obs).shape[2:])
    if obs_shape != model_config.obs_shape:
        raise ValueError(f"model_config.obs_shape={model_config.obs_shape} does not match the dataset's "
                         f"observations {obs_shape}")
    actions = np.asarray(dataset.actions)
    if actions.size and actions.max() >= model_config.n_actions:
        raise ValueError(f"dataset has action {int(actions.max())} but model_config.n_actions="
                         f"{model_config.n_actions}")
    if actions.shape[1] > model_config.max_len:
        raise ValueError(f"dataset horizon {actions.shape[1]} exceeds model_config.max_len={model_config.max_len}")
    if len(np.asarray(dataset.lengths)) == 0:
        raise ValueError("dataset has no trajectories")
