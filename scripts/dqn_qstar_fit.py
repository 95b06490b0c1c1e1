"""How many gradient steps does the paper's Q-network need to represent the optimal policy? (docs/dqn.md)

For 5 fixed 8×8 1T/1P mazes (inverted controls), computes Q* exactly by value iteration over the true
states, then fits the seed-batched Q-network to Q* by SUPERVISED regression (the easiest possible target:
no bootstrapping, no exploration; random (state, action) pairs, batch 32, Huber loss, RMSProp) and reports,
after k updates, the share of states whose greedy action is optimal and the mean |Q − Q*|. TD learning
cannot do better than this with the same number of updates, so it bounds what a DQN budget can reach.

Run: .venv/bin/python scripts/dqn_qstar_fit.py [learning_rate ...]   (about 1 minute per learning rate)
"""
from __future__ import annotations

import itertools
import sys

import numpy as np
import torch
import torch.nn.functional as F

from secretlab.agents.dqn import SeedBatchedQ, fresh_networks, torch_threads
from secretlab.data import maze_seeds
from secretlab.envs.batched import BatchedTriggers
from secretlab.envs.triggers import TriggersConfig, sample_layouts


def place(env: TriggersConfig, maze: int, agent, triggers_alive, prizes_alive) -> BatchedTriggers:
    """A batch of copies of ``maze`` put in the given states."""
    e = BatchedTriggers(env, len(agent), obs_mode="grid")
    e.reset(layouts=sample_layouts(env, np.full(len(agent), maze)))
    e.agent, e.triggers_alive, e.prizes_alive = agent.copy(), triggers_alive.copy(), prizes_alive.copy()
    return e


def optimal_q(env: TriggersConfig, maze: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid observations (N, 3, size, size) of every non-terminal state of ``maze`` and Q* (N, 4)."""
    n_obj = env.n_triggers + env.n_prizes
    cells = np.array([(r, c) for r in range(env.size) for c in range(env.size)])
    flags = np.array(list(itertools.product([True, False], repeat=n_obj)))
    agent = np.repeat(cells, len(flags), axis=0)
    alive = np.tile(flags, (len(cells), 1))
    e = place(env, maze, agent, alive[:, :env.n_triggers], alive[:, env.n_triggers:])
    on_object = (((e.triggers == agent[:, None]).all(-1) & e.triggers_alive).any(-1)
                 | ((e.prizes == agent[:, None]).all(-1) & e.prizes_alive).any(-1))
    keep = ~on_object & e.prizes_alive.any(-1)
    agent, t_alive, p_alive = agent[keep], e.triggers_alive[keep], e.prizes_alive[keep]
    e = place(env, maze, agent, t_alive, p_alive)
    obs, keys = e.observe(), e.state
    index = {int(k): i for i, k in enumerate(keys)}
    reward, terminal, nxt = (np.zeros((len(keys), 4)), np.zeros((len(keys), 4), bool),
                             np.zeros((len(keys), 4), np.int64))
    for a in range(4):
        out = place(env, maze, agent, t_alive, p_alive).step(np.full(len(keys), a))
        reward[:, a], terminal[:, a] = out.reward, out.terminated
        nxt[:, a] = [index.get(int(k), 0) for k in out.state]
    q = np.zeros((len(keys), 4))
    for _ in range(1000):  # value iteration (deterministic dynamics)
        q = reward + gamma * np.where(terminal, 0.0, q.max(1)[nxt])
    return obs, q


def fit(lr: float, gamma: float, n: int = 5, checkpoints=(500, 1000, 2000, 3000, 6000)) -> list[str]:
    env = TriggersConfig(8, 1, 1, inverted=True)
    data = [optimal_q(env, int(m), gamma) for m in maze_seeds("target", 0, n)]
    m = min(len(d[0]) for d in data)  # same number of states per maze (they differ by at most a few)
    obs = torch.stack([torch.from_numpy(d[0][:m]) for d in data])
    qstar = torch.stack([torch.from_numpy(d[1][:m]).float() for d in data])
    q = SeedBatchedQ(fresh_networks(8, range(n)))
    opt = torch.optim.RMSprop([q.flat], lr=lr)
    g = torch.Generator().manual_seed(0)
    rows = torch.arange(n)[:, None]
    best = qstar.max(-1, keepdim=True).values
    gap = (best[..., 0] - torch.where(qstar >= best - 1e-6, -np.inf, qstar).max(-1).values)  # best vs best non-optimal
    out = [f"action gap of Q* (median over states) {gap[torch.isfinite(gap)].median():.3f}"]
    for step in range(1, max(checkpoints) + 1):
        idx, act = torch.randint(0, m, (n, 32), generator=g), torch.randint(0, 4, (n, 32), generator=g)
        pred = q(obs[rows, idx]).gather(-1, act[..., None])[..., 0]
        target = qstar[rows, idx].gather(-1, act[..., None])[..., 0]
        loss = F.huber_loss(pred, target, reduction="none").mean(-1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in checkpoints:
            with torch.no_grad():
                qn = q(obs)
            greedy_ok = qstar.gather(-1, qn.argmax(-1, keepdim=True))[..., 0] >= qstar.max(-1).values - 1e-6
            out.append(f"{step}: greedy optimal {greedy_ok.float().mean():.2f}, |Q-Q*| {(qn - qstar).abs().mean():.3f}")
    return out


if __name__ == "__main__":
    with torch_threads(1):
        for lr in [float(a) for a in sys.argv[1:]] or [2.5e-4, 1e-3]:
            for gamma in (0.99, 0.95, 0.9):
                print(f"lr {lr:g}, gamma {gamma}: " + " | ".join(fit(lr, gamma)), flush=True)
