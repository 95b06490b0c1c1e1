"""Oracle stand-ins for the credit inspector's tests (and the Voila app of the browser test).

``OracleModel`` has the RewardModel interface ``forward(obs, actions, mask) ->
(logits (B, T, 3), att (B, T, T))`` and reads the same 3x3 crops and actions,
but computes its answer by rule instead of learning it: the sign of the reward
exactly, and attention spread uniformly over the steps whose action activated a
trigger (its own step when there is none yet). Perfect credit, hand-checkable.
"""
from __future__ import annotations

import numpy as np
import torch

from secretlab.envs.triggers import ACTION_DELTAS


class OracleModel(torch.nn.Module):
    """Exact sign prediction; attention uniform over trigger activations so far (else on itself)."""

    def __init__(self, n_triggers: int) -> None:
        super().__init__()
        self.n_triggers = n_triggers
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, obs, actions, mask):
        B, T = actions.shape
        delta = torch.as_tensor(ACTION_DELTAS)[actions.clamp(min=0)] + 1  # (B, T, 2) crop cell entered
        b, t = torch.meshgrid(torch.arange(B), torch.arange(T), indexing="ij")
        ahead = obs[b, t, :, delta[..., 0], delta[..., 1]]  # (B, T, 3) channels of the entered cell
        activates = (ahead[..., 1] == 1) & mask
        prize = (ahead[..., 2] == 1) & mask
        before = torch.cumsum(activates.long(), 1) - activates.long()
        sign = torch.where(prize, torch.where(before == self.n_triggers, 1, -1), 0)
        logits = torch.nn.functional.one_hot(sign + 1, 3).float() * 10
        att = activates[:, None, :].float() * torch.ones(T, T).tril()[None]
        none = att.sum(-1, keepdim=True) == 0
        att = torch.where(none, torch.eye(T)[None].expand(B, T, T), att)
        att = att / att.sum(-1, keepdim=True) * mask[:, :, None]
        return logits, att


def fake_potential(model, env, maze_seed, config):
    """A hand-made φ̂: the cell index on the 'all triggers active' mask, 0 elsewhere."""
    n_bits = env.n_triggers + env.n_prizes
    table = np.zeros((env.size * env.size, 1 << n_bits))
    table[:, ((1 << env.n_prizes) - 1) << env.n_triggers] = np.arange(env.size * env.size)
    return table.ravel()
