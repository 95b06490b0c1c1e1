"""Train notebook 06's DQN runs for ONE target scenario, so that scenarios can train in parallel processes.

    python scripts/inverted_pretrain.py PROFILE SCENARIO_INDEX [SEED]

At `paper` one scenario (10 source DQNs, then 5 arms x 10 seeds, 500k steps each) takes ~2 hours on
one core; notebook 06 runs its scenarios one after the other. Start one process per scenario
(SCENARIO_INDEX 0 = 1T/1P, 1 = 1T/2P), then run the notebook: its source networks and target runs
come from the cache (`secretlab.inverted.source_networks`, `secretlab.inverted.target_run`), keyed by
the same configuration (`secretlab.inverted.profile_configs`). Prints the timings and the
steps-to-80% table of the scenario.
"""
from __future__ import annotations

import sys
import time

import pandas as pd

from secretlab import inverted
from secretlab.profiles import notebook_params


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    profile, index = argv[0], int(argv[1])
    seed = int(argv[2]) if len(argv) == 3 else 0
    configs = inverted.profile_configs(notebook_params("06_inverted_dynamics", profile), profile, seed)
    if not 0 <= index < len(configs):
        raise SystemExit(f"SCENARIO_INDEX must be in 0..{len(configs) - 1} for profile {profile!r}, got {index}")
    config = configs[index]
    t0 = time.perf_counter()
    result = inverted.run_inverted(config)
    print(f"{config.scenario}: {time.perf_counter() - t0:.0f} s, timings "
          f"{ {k: round(v, 1) for k, v in result.timings.items()} }")
    print("source DQN:", result.source_summary)
    print(pd.DataFrame(inverted.results_json(result)["table_rows"]).to_string())


if __name__ == "__main__":
    main(sys.argv[1:])
