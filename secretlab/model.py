"""The SECRET reward model: a causal 1-layer, 1-head transformer that predicts sign(r).

Read top to bottom (nanoGPT style):

1. :class:`ModelConfig`   every architectural number, with the paper's values (App. A.1).
2. :class:`ObservationEncoder`  per-step observation -> conv stack -> dense ``d_model``.
3. :class:`CausalSelfAttention` ONE head, attention computed explicitly and returned,
   because the attention weights *are* the credit (paper §2.1).
4. :class:`RewardModel`   (obs, action) embedding + sinusoidal positions -> one
   post-norm decoder block (attention, residual, LayerNorm, feed-forward, residual,
   LayerNorm) -> 3 logits per step, class index = sign(r) + 1.
5. :func:`sequence_loss`  the paper's class-weighted sequential cross-entropy,
   normalised by the trajectory length |τ|.

Shapes: B = batch, T = steps (padded), C×H×W = one observation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from secretlab.validation import check_int

#: Bumped whenever the forward computation changes for the same ModelConfig; part of the
#: checkpoint cache key, so a stale checkpoint is never loaded into a different network.
ARCHITECTURE_VERSION = 2

#: Class index of each reward sign: 0 = -1, 1 = 0, 2 = +1.
SIGN_CLASSES = (-1, 0, 1)
#: The paper's class weights w(-1), w(0), w(+1) (App. A.1).
PAPER_CLASS_WEIGHTS = (0.499, 0.02, 0.499)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the reward model (defaults: the paper's Triggers model)."""

    obs_shape: tuple[int, ...] = (3, 3, 3)
    """Channel-first shape (C, H, W) of one step's observation."""
    n_actions: int = 4
    """Number of discrete actions (one-hot encoded)."""
    conv_channels: tuple[int, ...] = (32,)
    """Filters per conv layer: (32,) for Triggers, (16, 16) for keys/doors (App. A.1)."""
    conv_kernel: int = 3
    """Conv kernel size; 'same' padding, stride 1, so any crop size works."""
    obs_scale: float = 1.0
    """Observations are divided by this before the conv (1 for 0/1 crops, ~10 for MiniGrid ids)."""
    d_model: int = 128
    """Width of the dense layers, the attention and the residual stream (paper: 128 units)."""
    d_ff: int = 128
    """Hidden width of the position-wise feed-forward layer (paper: 'dense 128' everywhere)."""
    max_len: int = 512
    """Longest sequence the sinusoidal position table covers."""
    dropout_dense: float = 0.1
    """Dropout after dense layers (paper 0.1)."""
    dropout_attn: float = 0.2
    """Dropout on the attention weights, training only (paper 0.2)."""
    dropout_norm: float = 0.2
    """Dropout on each sub-layer output before residual + LayerNorm (paper 0.2)."""
    n_classes: int = 3
    """Output classes: sign(r) in {-1, 0, +1}."""

    def __post_init__(self) -> None:
        # JSON round trips turn tuples into lists; normalise so configs compare equal.
        object.__setattr__(self, "obs_shape", tuple(int(x) for x in self.obs_shape))
        object.__setattr__(self, "conv_channels", tuple(int(x) for x in self.conv_channels))
        if len(self.obs_shape) != 3 or min(self.obs_shape) < 1:
            raise ValueError(f"obs_shape must be (C, H, W) with positive entries, got {self.obs_shape}")
        for name in ("n_actions", "d_model", "d_ff", "max_len", "conv_kernel"):
            check_int(name, getattr(self, name), minimum=1)
        if self.conv_kernel % 2 == 0:
            raise ValueError(f"conv_kernel must be odd (for 'same' padding), got {self.conv_kernel}")
        if any(c < 1 for c in self.conv_channels):
            raise ValueError(f"conv_channels must be positive, got {self.conv_channels}")
        if not self.obs_scale > 0:
            raise ValueError(f"obs_scale must be > 0, got {self.obs_scale}")
        for name in ("dropout_dense", "dropout_attn", "dropout_norm"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.n_classes != 3:
            raise ValueError(f"n_classes must be 3 (sign of the reward), got {self.n_classes}")

    def check_reads(self, obs_shape: tuple[int, ...], n_steps: int, what: str, max_action: int | None = None) -> None:
        """ValueError unless a model of this config can read ``what`` (a dataset or an env).

        Checks the per-step observation shape, that sequences of ``n_steps`` steps fit the
        positional table (``max_len``) and, if given, that ``max_action`` < ``n_actions``. The
        config does not record the maze size it was trained on, and a Triggers crop is 3×3 at
        every size, so a model trained on 4×4 mazes passes on 8×8 ones (transfer to other sizes,
        as in notebook 05, is a legitimate use) as long as the horizon fits ``max_len``.
        """
        if tuple(obs_shape) != self.obs_shape:
            raise ValueError(f"the model reads observations of shape obs_shape={self.obs_shape}, but {what} has "
                             f"observations of shape {tuple(obs_shape)}")
        if n_steps > self.max_len:
            raise ValueError(f"{what} has sequences of {n_steps} steps, more than the model's max_len={self.max_len}")
        if max_action is not None and max_action >= self.n_actions:
            raise ValueError(f"{what} has action {max_action}, but the model has n_actions={self.n_actions}")


# ----------------------------------------------------------------------------- encoder
class ObservationEncoder(nn.Module):
    """(N, C, H, W) observations -> (N, d_model): conv stack (ReLU) -> flatten -> dense (ReLU)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.obs_shape
        layers: list[nn.Module] = []
        for out in config.conv_channels:
            layers += [nn.Conv2d(c, out, config.conv_kernel, padding=config.conv_kernel // 2), nn.ReLU()]
            c = out
        self.conv = nn.Sequential(*layers)
        self.dense = nn.Linear(c * h * w, config.d_model)
        self.drop = nn.Dropout(config.dropout_dense)
        self.scale = 1.0 / config.obs_scale

    def forward(self, obs: Tensor) -> Tensor:
        x = self.conv(obs.float() * self.scale)
        return self.drop(F.relu(self.dense(x.flatten(1))))


def sinusoidal_positions(max_len: int, d_model: int) -> Tensor:
    """(max_len, d_model) table of Vaswani et al. (2017): sin on even, cos on odd dims."""
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: d_model // 2])
    return table


# --------------------------------------------------------------------------- attention
class CausalSelfAttention(nn.Module):
    """One head: att = softmax(mask(QKᵀ/√d)); z = att·V; out = W_o z.

    The attention is materialised (not ``scaled_dot_product_attention``) because
    it is the model's credit output. Returned ``att`` is the *pre-dropout* weight
    matrix, so it is the clean credit in eval mode and still sums to 1 per row in
    training mode; dropout only touches the copy used to mix the values.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.attn_drop = nn.Dropout(config.dropout_attn)
        self.scale = 1.0 / math.sqrt(config.d_model)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, d), mask (B, T) bool -> out (B, T, d), att (B, T, T) with att[b, t, i] = α_{i←t}."""
        T = x.shape[1]
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        scores = torch.baddbmm(_causal_bias(mask, T), q, k.transpose(1, 2), alpha=self.scale)
        att = torch.softmax(scores, dim=-1)
        # Padding queries must give no credit: zero their rows (keys were masked in the bias).
        att = att * mask[:, :, None]
        z = torch.bmm(self.attn_drop(att), v)
        return self.proj(z), att


def _causal_bias(mask: Tensor, T: int) -> Tensor:
    """(B, T, T) additive bias: 0 where key i ≤ query t and key i is real, else -inf-like.

    A large finite negative number (not -inf) keeps padding query rows finite;
    they are zeroed after the softmax.
    """
    causal = torch.ones(T, T, dtype=torch.bool, device=mask.device).tril()
    allowed = causal[None] & mask[:, None, :]
    # Padding query rows get their own diagonal so the softmax stays finite.
    allowed = allowed | torch.eye(T, dtype=torch.bool, device=mask.device)[None]
    bias = torch.zeros(allowed.shape, dtype=torch.float32, device=mask.device)
    return bias.masked_fill_(~allowed, -1e9)


# ------------------------------------------------------------------------------- model
class RewardModel(nn.Module):
    """SECRET's sequence model: predicts sign(r_t) from (o_0, a_0, ..., o_t, a_t)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.encoder = ObservationEncoder(config)
        # The one-hot action is concatenated to the observation embedding, then mixed by a dense layer.
        self.embed = nn.Linear(d + config.n_actions, d)
        self.embed_drop = nn.Dropout(config.dropout_dense)
        self.register_buffer("positions", sinusoidal_positions(config.max_len, d), persistent=False)
        self.embed_scale = math.sqrt(d)
        self.attn = CausalSelfAttention(config)
        self.drop1 = nn.Dropout(config.dropout_norm)
        self.norm1 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, config.d_ff), nn.ReLU(), nn.Dropout(config.dropout_dense),
                                nn.Linear(config.d_ff, d))
        self.drop2 = nn.Dropout(config.dropout_norm)
        self.norm2 = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.n_classes)

    def forward(self, obs: Tensor, actions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """obs (B, T, *obs_shape) uint8/float, actions (B, T) long (-1 = padding), mask (B, T) bool.

        Returns logits (B, T, 3) and att (B, T, T) with att[b, t, i] = α_{i←t}:
        rows sum to 1 over i ≤ t on real steps; padding rows and columns are 0.
        """
        B, T = actions.shape
        if tuple(obs.shape[2:]) != self.config.obs_shape or obs.shape[:2] != (B, T):
            raise ValueError(f"obs must have shape (B, T, *{self.config.obs_shape}) = ({B}, {T}, ...), "
                             f"got {tuple(obs.shape)}")
        if T > self.config.max_len:
            raise ValueError(f"sequence length {T} exceeds max_len={self.config.max_len}")
        mask = mask.bool()
        x = self.encoder(obs.reshape(B * T, *self.config.obs_shape)).view(B, T, -1)
        one_hot = F.one_hot(actions.clamp(min=0), self.config.n_actions).to(x.dtype)
        x = self.embed_drop(F.relu(self.embed(torch.cat([x, one_hot], dim=-1))))
        # Vaswani et al. scale the embedding by √d_model before adding the positions, so the
        # content is not drowned by the unit-amplitude sinusoids (it matters a lot here: the
        # sign depends on a conjunction of crop and action features).
        x = x * self.embed_scale + self.positions[:T]
        a, att = self.attn(x, mask)
        x = self.norm1(x + self.drop1(a))
        x = self.norm2(x + self.drop2(self.ff(x)))
        return self.head(x), att

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


# -------------------------------------------------------------------------------- loss
def sign_to_class(sign: Tensor) -> Tensor:
    """sign(r) in {-1, 0, 1} -> class index in {0, 1, 2}."""
    return sign.long() + 1


def sequence_loss(logits: Tensor, sign_targets: Tensor, mask: Tensor,
                  class_weights: tuple[float, float, float] = PAPER_CLASS_WEIGHTS) -> Tensor:
    """The paper's weighted sequential cross-entropy (§2.1), averaged over the batch.

    L(τ) = -(1/|τ|) Σ_{t real} w(c_t) log f_{c_t}(τ_{≤t}).

    logits (B, T, 3), sign_targets (B, T) in {-1, 0, 1}, mask (B, T) bool.
    Unlike ``F.cross_entropy(weight=...)``, which divides by the summed weights,
    this divides by the number of real steps of each trajectory.
    """
    if len(class_weights) != 3:
        raise ValueError(f"class_weights must have 3 entries (w(-1), w(0), w(+1)), got {class_weights}")
    mask = mask.bool()
    weights = torch.as_tensor(class_weights, dtype=logits.dtype, device=logits.device)
    target = sign_to_class(sign_targets).clamp(0, 2)
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, target[..., None])[..., 0]  # (B, T)
    per_step = weights[target] * nll * mask
    lengths = mask.sum(1).clamp(min=1)
    return (per_step.sum(1) / lengths).mean()


def batched_forward(model: nn.Module, dataset, batch_size: int, index=None, width: int | None = None):
    """Run ``model`` over ``dataset`` in batches (eval mode, no grad): yields ``(idx, L, logits, att)``.

    The one inference loop of the project. ``dataset`` has ``.obs (N, T, ...)``,
    ``.actions (N, T)`` (-1 pad) and ``.lengths (N,)``; ``index`` (default all, in
    order) picks and orders the trajectories, e.g. length-sorted to cut padding.
    Each batch is trimmed to its longest episode L (or cut at ``width`` steps if
    given): ``idx`` (b,) trajectory indices, ``logits`` (b, L, 3), ``att`` (b, L, L)
    tensors on the model's device.
    The model's train/eval mode is restored afterwards.
    """
    import numpy as np

    lengths = np.asarray(dataset.lengths, dtype=np.int64)
    index = np.arange(len(lengths)) if index is None else np.asarray(index, dtype=np.int64)
    obs_all, actions_all = np.asarray(dataset.obs), np.asarray(dataset.actions, dtype=np.int64)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(index), batch_size):
                idx = index[start:start + batch_size]
                L = int(lengths[idx].max()) if width is None else int(width)
                mask = np.arange(L)[None, :] < lengths[idx, None]
                logits, att = model(torch.as_tensor(obs_all[idx, :L], device=device),
                                    torch.as_tensor(actions_all[idx, :L], device=device),
                                    torch.as_tensor(mask, device=device))
                yield idx, L, logits, att
    finally:
        model.train(was_training)
