"""Environments, registered with Gymnasium in one place.

``import secretlab`` makes ``gymnasium.make("secretlab/Triggers-v0", ...)`` work.
"""
from gymnasium.envs.registration import register, registry

from secretlab.envs.batched import BatchedTriggers, BatchStep
from secretlab.envs.triggers import (
    Layout,
    TriggersConfig,
    TriggersEnv,
    decode_state,
    default_max_steps,
    encode_state,
    sample_layout,
    sample_layouts,
)

#: Gymnasium ids this package registers, with their entry points.
REGISTRY = {
    "secretlab/Triggers-v0": "secretlab.envs.triggers:TriggersEnv",
}


def _register_all() -> None:
    for env_id, entry_point in REGISTRY.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point)


_register_all()

__all__ = [
    "REGISTRY", "BatchedTriggers", "BatchStep", "Layout", "TriggersConfig", "TriggersEnv",
    "decode_state", "default_max_steps", "encode_state", "sample_layout", "sample_layouts",
]
