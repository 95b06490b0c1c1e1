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
    "secretlab/KeysDoors-v0": "secretlab.envs.keys_doors:KeysDoorsEnv",
}


def _register_all() -> None:
    for env_id, entry_point in REGISTRY.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point)


_register_all()


def __getattr__(name: str):
    # KeysDoors is exported lazily: importing MiniGrid (and pygame) costs ~0.4 s.
    if name in ("KeysDoorsConfig", "KeysDoorsEnv"):
        from secretlab.envs import keys_doors

        return getattr(keys_doors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "REGISTRY", "BatchedTriggers", "KeysDoorsConfig", "KeysDoorsEnv", "BatchStep", "Layout", "TriggersConfig", "TriggersEnv",
    "decode_state", "default_max_steps", "encode_state", "sample_layout", "sample_layouts",
]
