"""secretlab: a workbench for SECRET, self-attentional credit assignment for transfer in RL.

``import secretlab`` registers the Gymnasium environments (``secretlab/Triggers-v0``).
The heavier modules (model, credit, shaping, agents) are imported on use.
"""
from secretlab import envs  # noqa: F401  (registers the Gymnasium ids)
from secretlab.envs import BatchedTriggers, TriggersConfig, TriggersEnv

__version__ = "0.1.0"
__all__ = ["BatchedTriggers", "TriggersConfig", "TriggersEnv", "__version__"]
