"""A world with fixed door colours where a wrong-key toggle ends the episode, with a source agent TRAINED in it.

How often does that agent pick the right key, and does the reward model then put its credit on the pickup?
(Lab entry 2026-12-02, "what the one-layer model needs to put credit on the keys".) The env is patched in this
process only, so the run MUST use a scratch cache (its artifacts share cache keys with the real stand-in's):

    SECRETLAB_CACHE=/tmp/scratch .venv/bin/python scripts/keys_doors_fixed_colour_world.py default   # or paper

The data are cut at the first wrong-key toggle (`--truncate` of keys_doors_credit_probes.py), which is what the
rule does to them; the batched collector does not know the rule.
"""
import json
import os
import sys
import time
if not os.environ.get("SECRETLAB_CACHE"):
    sys.exit("set SECRETLAB_CACHE to a scratch folder: the patched env shares cache keys with the real stand-in")
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.world_object import Door, Key
import secretlab.agents.ppo as ppo_mod
import secretlab.envs.keys_doors as kde
import secretlab.envs.keys_doors_batch as kdb
from keys_doors_credit_probes import edited, first_attempts
from secretlab.credit import credit_rows
from secretlab.data.keys_doors import CollectConfig, load_or_collect
from secretlab.experiments import keys_doors as kd
from secretlab.profiles import notebook_params
from secretlab.training import TrainConfig, train


class FixedColourEnv(kde.KeysDoorsEnv):
    """Door i has colour i mod n_colors (its room's keys re-coloured with it); a wrong-key toggle ends the episode."""

    def _gen_grid(self, width, height):
        super()._gen_grid(width, height)
        n = self.config.n_colors
        for i, door in enumerate(self.doors):
            c, t = COLOR_NAMES.index(door.color), i % n
            if c == t:
                continue
            swap = {c: t, t: c}
            door.color = COLOR_NAMES[t]
            keys = []
            for x, y, k in self.key_positions[i]:
                k2 = swap.get(k, k)
                self.grid.get(x, y).color = COLOR_NAMES[k2]
                keys.append((x, y, k2))
            self.key_positions[i] = keys
        self._padded = None

    def advance(self, action):
        fwd = self.grid.get(*[int(v) for v in self.front_pos])
        wrong = (int(action) == 4 and isinstance(fwd, Door) and fwd.is_locked and isinstance(self.carrying, Key)
                 and self.carrying.color != fwd.color)
        r, term, trunc, info = super().advance(action)
        if wrong and not term:
            term, trunc = True, False
        return r, term, trunc, info


ppo_mod.KeysDoorsEnv = FixedColourEnv
kdb.KeysDoorsEnv = FixedColourEnv
profile = sys.argv[1] if len(sys.argv) > 1 else "default"
config = kd.KeysDoorsExperiment.from_params(notebook_params("07_keys_doors", profile), 0)
steps = config.source_ppo.total_timesteps
ppo_cfg = type(config.source_ppo)(**{**config.source_ppo.__dict__, "total_timesteps": steps})
t0 = time.time()
agent, info = ppo_mod.load_or_train_source_agent(config.env, ppo_cfg, seed=0)
identity = ppo_mod.agent_identity(config.env, ppo_cfg, 0)
source = load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_source_trajectories, seed=0,
                                       agent=identity), agent.policy)
heldout = load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_target_trajectories, seed=0,
                                        split="target", agent=identity), agent.policy)
assert (source.door_colour[:, 0] == 0).all()
att = first_attempts(source)
right_share = float(np.mean([r for _, _, r in att]))
firsts = first_attempts(heldout)
src, held = edited(source, True, "base"), edited(heldout, True, "base")  # the rule: a wrong-key toggle ends it
model = train(src, kd.reward_model_config(config.env), TrainConfig(max_epochs=config.max_epochs, seed=0),
              progress=False).model
prob = kd.positive_probabilities(model, held)
near = kd.attention_around_pickups(credit_rows(model, held, tolerance=config.tolerance), held, max_offset=10, window=2)
print(json.dumps({"profile": profile, "source_steps": steps, "source_late_success": info.get("late_success_rate"),
                  "share_success": float(source.success.mean()), "episodes_with_a_first_toggle": len(att),
                  "right_key_share_of_first_toggles": right_share,
                  "share_near": near["share_near"], "share_near_uniform": near["share_near_uniform"],
                  "n_rows": int(near["n_rows"]),
                  "p_first_right": float(np.mean([prob[i, t] for i, t, r in firsts if r])) if any(r for *_, r in firsts) else None,
                  "p_first_wrong": float(np.mean([prob[i, t] for i, t, r in firsts if not r])) if not all(r for *_, r in firsts) else None,
                  "seconds": round(time.time() - t0)}))
