"""Reward-model speed: training and inference throughput, and achieved GFLOP/s.

Reference: the same network built from ``torch.nn.TransformerEncoderLayer`` (one
head, causal + key-padding masks) with its attention called with
``need_weights=True`` (we need the weights as credit), fed plain shuffled
batches padded to the full horizon T. Ours: :class:`secretlab.model.RewardModel`
on the length-bucketed, trimmed batches that :func:`secretlab.training.train`
uses. Both see the same trajectories in the same run. A second pair
(``..._same_batches``) feeds the reference our trimmed batches, to separate the
model's own speed from the batching.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn as nn

from secretlab.bench import Measurement, rate_measurement
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.envs.triggers import TriggersConfig
from secretlab.model import ModelConfig, ObservationEncoder, RewardModel, sequence_loss, sinusoidal_positions
from secretlab.training import TrainConfig, _bucketed, _DatasetTensors


# ===================================================================== reference
class _WeightsEncoderLayer(nn.TransformerEncoderLayer):
    """TransformerEncoderLayer whose self-attention also returns its (B, T, T) weights."""

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        out, self.last_attention = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                                  need_weights=True, average_attn_weights=True)
        return self.dropout1(out)


class ReferenceRewardModel(nn.Module):
    """Same layers as RewardModel, with the decoder block from torch.nn."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.d_model
        self.config = config
        self.encoder = ObservationEncoder(config)
        self.embed = nn.Sequential(nn.Linear(d + config.n_actions, d), nn.ReLU(), nn.Dropout(config.dropout_dense))
        self.register_buffer("positions", sinusoidal_positions(config.max_len, d), persistent=False)
        self.block = _WeightsEncoderLayer(d, nhead=1, dim_feedforward=config.d_ff, dropout=config.dropout_norm,
                                          batch_first=True)
        self.head = nn.Linear(d, config.n_classes)

    def forward(self, obs, actions, mask):
        B, T = actions.shape
        x = self.encoder(obs.reshape(B * T, *self.config.obs_shape)).view(B, T, -1)
        one_hot = nn.functional.one_hot(actions.clamp(min=0), self.config.n_actions).float()
        x = self.embed(torch.cat([x, one_hot], -1)) + self.positions[:T]
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = self.block(x, src_mask=causal, src_key_padding_mask=~mask)
        return self.head(x), self.block.last_attention


# ====================================================================== plumbing
def _data(quick: bool):
    env = TriggersConfig(size=8, n_triggers=3, n_prizes=1)
    return load_or_collect(DatasetConfig(env=env, n_trajectories=64 if quick else 2048, seed=0, split="train"))


def _padded_batches(n: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


class _FullLength(_DatasetTensors):
    """Batches padded to the full horizon T (the simple way)."""

    def batches(self, index_batches, device):
        T = self.actions.shape[1]
        for b in super().batches(index_batches, device):
            pad = T - b.mask.shape[1]
            if pad:
                b.obs = nn.functional.pad(b.obs, (0, 0, 0, 0, 0, 0, 0, pad))
                b.actions = nn.functional.pad(b.actions, (0, pad), value=-1)
                b.mask = nn.functional.pad(b.mask, (0, pad), value=False)
                b.signs = nn.functional.pad(b.signs, (0, pad))
            yield b


def _train_rate(model: nn.Module, tensors, index_batches, n_seq: int) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    batches = list(tensors.batches(index_batches, torch.device("cpu")))
    start = time.perf_counter()
    for b in batches:
        loss = sequence_loss(model(b.obs, b.actions, b.mask)[0], b.signs, b.mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return n_seq / (time.perf_counter() - start)


@torch.no_grad()
def _infer_rate(model: nn.Module, tensors, index_batches, n_seq: int) -> float:
    model.eval()
    batches = list(tensors.batches(index_batches, torch.device("cpu")))
    start = time.perf_counter()
    for b in batches:
        model(b.obs, b.actions, b.mask)
    return n_seq / (time.perf_counter() - start)


# ==================================================================== benchmarks
def bench_train_infer(quick: bool) -> list[Measurement]:
    """Training and inference sequences/s, ours vs TransformerEncoderLayer(need_weights=True)."""
    data = _data(quick)
    config = ModelConfig()
    batch_size = 64
    torch.manual_seed(0)
    ours, reference = RewardModel(config), ReferenceRewardModel(config)
    ours_tensors, full_tensors = _DatasetTensors(data), _FullLength(data)
    bucketed = _bucketed(np.arange(data.n), data.lengths, TrainConfig(batch_size=batch_size),
                         torch.Generator().manual_seed(0))
    plain = _padded_batches(data.n, batch_size)
    # warm-up (allocator, kernels)
    _train_rate(ours, ours_tensors, bucketed[:2], 1)
    _train_rate(reference, full_tensors, plain[:2], 1)
    n = data.n
    train_ours = _train_rate(ours, ours_tensors, bucketed, n)
    train_ref = _train_rate(reference, full_tensors, plain, n)
    train_ref_same = None if quick else _train_rate(reference, ours_tensors, bucketed, n)
    infer_batches = [np.sort(np.argsort(data.lengths)[i:i + 256]) for i in range(0, n, 256)]
    infer_ours = _infer_rate(ours, ours_tensors, infer_batches, n)
    infer_ref = _infer_rate(reference, full_tensors, _padded_batches(n, 256), n)
    note = f"8x8 3T/1P, {n} trajectories (mean length {data.lengths.mean():.0f}, T={data.horizon}), " \
           f"{torch.get_num_threads()} threads"
    ref_name = "nn.TransformerEncoderLayer need_weights=True, padded batches"
    out = [rate_measurement("train_sequences_per_s", train_ours, ref_name, train_ref, "seq/s", note),
           rate_measurement("infer_sequences_per_s", infer_ours, ref_name, infer_ref, "seq/s", note)]
    if train_ref_same is not None:
        out.insert(1, rate_measurement("train_sequences_per_s_same_batches", train_ours,
                                       "nn.TransformerEncoderLayer need_weights=True, our bucketed batches",
                                       train_ref_same, "seq/s", "model-only comparison"))
    return out


def bench_train_gflops(quick: bool) -> list[Measurement]:
    """Achieved GFLOP/s of a training step vs the machine's measured sgemm peak (a large torch.mm)."""
    from torch.utils.flop_counter import FlopCounterMode

    data = _data(True)
    torch.manual_seed(0)
    model = RewardModel(ModelConfig())
    tensors = _DatasetTensors(data)
    batches = list(tensors.batches(_bucketed(np.arange(data.n), data.lengths, TrainConfig(batch_size=64),
                                             torch.Generator().manual_seed(0))[: 2 if quick else 8],
                                   torch.device("cpu")))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step(b):
        loss = sequence_loss(model(b.obs, b.actions, b.mask)[0], b.signs, b.mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step(batches[0])
    counter = FlopCounterMode(display=False)
    with counter:
        for b in batches:
            step(b)
    flops = counter.get_total_flops()
    start = time.perf_counter()
    for b in batches:
        step(b)
    achieved = flops / (time.perf_counter() - start) / 1e9

    n = 512 if quick else 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    reps = 3 if quick else 10
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    peak = 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9
    return [rate_measurement("train_gflops", achieved, f"sgemm peak (torch.mm {n}x{n})", peak, "GFLOP/s",
                             "ratio = share of peak; FLOPs counted by torch FlopCounterMode")]
