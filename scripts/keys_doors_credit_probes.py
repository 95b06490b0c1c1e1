"""Keys/doors credit probes (lab entry 2026-12-02, "what the one-layer model needs to put credit on the keys").

Trains the paper's DMLab reward model on edited copies of notebook 07's `default` source data and reads, on the
held-out mazes, (i) P(+1) at each episode's first toggle at the locked door with a key in hand, split by right and
wrong key, and (ii) the attention of correct door-opening predictions within ±2 steps of the key pickup against
uniform attention (Fig. 3 right). Run from the repository root after notebook 07 has run at `default` (or let it
train the source agent and collect, about a minute):

    .venv/bin/python scripts/keys_doors_credit_probes.py --view swap --truncate

Edits (none changes the agent's behaviour, only what the data say):
- ``--truncate``: end every episode at its first toggle with the wrong key (no repeated toggles to learn from);
- ``--view split``: one channel per (object, colour) pair, so a red key and a red door share no channel;
- ``--view swap``: re-colour every episode whose door is colour 1 so that every door has colour 0 (swap the two
  colour channels on all its frames): the data of a world with fixed door colours, same behaviour policy;
- ``--wrong-frac F``: keep every right-key episode and only enough wrong-key ones to make F of them.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from secretlab.agents.ppo import agent_identity, load_or_train_source_agent
from secretlab.credit import credit_rows
from secretlab.data.keys_doors import CollectConfig, KeysDoorsDataset, load_or_collect
from secretlab.envs.keys_doors import decode_state
from secretlab.experiments import keys_doors as kd
from secretlab.profiles import notebook_params
from secretlab.training import TrainConfig, train

WEIGHTS = {"paper": None, "balanced": (1 / 3, 1 / 3, 1 / 3), "mid": (0.45, 0.1, 0.45)}
DOOR_CH, KEY_CH, COLOUR_CH = 3, 4, (6, 7)  # channels of the 11-channel model view (2 colours)


def first_attempts(ds: KeysDoorsDataset) -> list[tuple[int, int, bool]]:
    """(episode, step, holds the right key) of each episode's first toggle facing the locked door with a key."""
    out = []
    for i in range(ds.n):
        for t in range(ds.lengths[i]):
            if ds.actions[i, t] != 4 or ds.obs[i, t, DOOR_CH, 5, 3] != 1:  # toggle, the cell in front is a door
                continue
            s = decode_state(int(ds.states[i, t]), ds.config.env)
            if s["doors_opened"] == 0 and s["carrying"] >= 0:
                out.append((i, t, bool(s["carrying"] == ds.door_colour[i, 0])))
                break
    return out


def edited(ds: KeysDoorsDataset, truncate: bool, view: str) -> KeysDoorsDataset:
    arrays = {k: v.copy() for k, v in ds.to_arrays().items()}
    if truncate:
        for i, t, right in first_attempts(ds):
            if not right:
                arrays["lengths"][i] = t + 1
                arrays["actions"][i, t + 1:] = -1
                arrays["rewards"][i, t + 1:] = 0
    o = arrays["obs"]
    if view == "split":
        door, key, c0, c1 = (o[..., k, :, :] for k in (DOOR_CH, KEY_CH, *COLOUR_CH))
        arrays["obs"] = np.stack([o[..., 0, :, :], o[..., 1, :, :], o[..., 2, :, :], o[..., 5, :, :], key & c0,
                                  key & c1, door & c0, door & c1, o[..., 8, :, :], o[..., 9, :, :],
                                  o[..., 10, :, :]], axis=-3)
    elif view == "swap":
        flip = arrays["door_colour"][:, 0] == 1
        a, b = COLOUR_CH
        o[flip, :, a], o[flip, :, b] = o[flip, :, b].copy(), o[flip, :, a].copy()
        for name in ("picked", "key_colour", "door_colour"):
            sel = arrays[name][flip]
            arrays[name][flip] = np.where(sel >= 0, 1 - sel, sel)
    return type(ds).from_arrays(ds.config, arrays)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--view", choices=("base", "split", "swap"), default="base")
    p.add_argument("--weights", choices=tuple(WEIGHTS), default="paper")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--patience", type=int, default=None, help="default: --epochs (no early stop but the best kept)")
    p.add_argument("--truncate", action="store_true")
    p.add_argument("--wrong-frac", type=float, default=None)
    p.add_argument("--n-source", type=int, default=None, help="source trajectories (default: the notebook's)")
    args = p.parse_args()
    torch.set_num_threads(1)
    config = kd.KeysDoorsExperiment.from_params(notebook_params("07_keys_doors", "default"), 0)
    agent, _ = load_or_train_source_agent(config.env, config.source_ppo, seed=config.seed)
    identity = agent_identity(config.env, config.source_ppo, config.seed)
    source = load_or_collect(CollectConfig(env=config.env, seed=config.seed, agent=identity,
                                           n_trajectories=args.n_source or config.n_source_trajectories), agent.policy)
    heldout = load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_target_trajectories,
                                            seed=config.seed, split="target", agent=identity), agent.policy)
    firsts = first_attempts(heldout)
    if args.wrong_frac is not None:
        attempts = first_attempts(source)
        right = [i for i, _, r in attempts if r]
        wrong = [i for i, _, r in attempts if not r]
        rest = np.setdiff1d(np.arange(source.n), right + wrong)
        k = int(round(args.wrong_frac / (1 - args.wrong_frac) * len(right)))
        source = source.subset(np.sort(np.concatenate([right, wrong[:k], rest]).astype(np.int64)))
    src, held = edited(source, args.truncate, args.view), edited(heldout, args.truncate, args.view)
    train_kw = {"max_epochs": args.epochs, "patience": args.patience or args.epochs, "seed": 0}
    if WEIGHTS[args.weights]:
        train_kw["class_weights"] = WEIGHTS[args.weights]
    start = time.perf_counter()
    model = train(src, kd.reward_model_config(config.env), TrainConfig(**train_kw), progress=False).model
    prob = kd.positive_probabilities(model, held)
    near = kd.attention_around_pickups(credit_rows(model, held, tolerance=config.tolerance), held, max_offset=10,
                                       window=2)
    print(json.dumps({**vars(args), "train_s": round(time.perf_counter() - start),
                      "share_near": near["share_near"], "share_near_uniform": near["share_near_uniform"],
                      "p_first_right": float(np.mean([prob[i, t] for i, t, r in firsts if r])),
                      "p_first_wrong": float(np.mean([prob[i, t] for i, t, r in firsts if not r]))}))


if __name__ == "__main__":
    main()
