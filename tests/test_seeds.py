"""One seed-derivation function: derive_seed(seed, purpose, index) = seed·stride + base + index."""
import pytest

from secretlab.seeds import SEED_PLAN, derive_seed


def test_derive_seed_by_hand():
    assert derive_seed(0, "ppo_run", 3) == 3
    assert derive_seed(2, "ppo_run", 3) == 2003
    assert derive_seed(1, "ppo_actor_env", 4) == 7 * 10**14 + 1004
    assert derive_seed(1, "dqn_network", 10_000) == 110_003


@pytest.mark.parametrize("purpose", sorted(SEED_PLAN))
def test_a_purpose_never_gives_two_seeds_or_indices_the_same_value(purpose):
    stride, _ = SEED_PLAN[purpose]
    values = {derive_seed(s, purpose, i) for s in range(4) for i in range(min(stride, 50))}
    assert len(values) == 4 * min(stride, 50)


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="purpose"):
        derive_seed(0, "ppo_runs")
    with pytest.raises(ValueError, match="seed"):
        derive_seed(-1, "ppo_run")
    with pytest.raises(ValueError, match="index"):
        derive_seed(0, "ppo_run", 1.5)
