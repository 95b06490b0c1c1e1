"""A/B speed of the seed-batched DQN: the working tree's secretlab/agents/dqn.py against the one of a git revision.

Runs the `secretlab bench` DQN workload (10 seeds × STEPS steps) with each version, interleaved, 5 repeats,
and prints the median seed-steps per second of PROCESS time (less sensitive than wall-clock to other work on
a shared machine).
Run: .venv/bin/python scripts/dqn_speed_ab.py 9167531 [steps=2000]   (about 2 minutes)
"""
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from secretlab.benchmarks.dqn import N_SEEDS, _config
from secretlab.data import maze_seeds
from secretlab.envs import TriggersConfig

root = Path(__file__).resolve().parents[1]
rev = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
old_file = Path(tempfile.mkdtemp()) / "dqn_old.py"
old_file.write_text(subprocess.run(["git", "show", f"{rev}:secretlab/agents/dqn.py"], cwd=root, check=True,
                                   capture_output=True, text=True).stdout)


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


versions = {rev: load("dqn_old", old_file), "working tree": load("dqn_new", root / "secretlab/agents/dqn.py")}
env = TriggersConfig(8, 1, 1, inverted=True)
rates: dict[str, list[float]] = {k: [] for k in versions}
for _ in range(5):
    for name, m in versions.items():
        start = time.process_time()
        m.train_dqn(env, _config(steps), m.fresh_networks(8, range(N_SEEDS)), maze_seeds("target", 0, N_SEEDS)[:, None],
                    seed=0)
        rates[name].append(N_SEEDS * steps / (time.process_time() - start))
for name, r in rates.items():
    print(f"{name}: median {np.median(r):.0f} seed-steps/s (process time), runs {[round(x) for x in r]}")
