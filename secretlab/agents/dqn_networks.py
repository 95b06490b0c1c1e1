"""The paper's DQN network and its seed-batched form (App. A.3; the algorithm is :mod:`secretlab.agents.dqn`).

All ``S`` networks of a run live in ONE set of stacked parameters of shape ``(S, ...)``;
:func:`batched_forward` runs the single-seed :class:`QNetwork` for all of them at once
(one grouped convolution per layer, one batched matmul per dense layer). Checkpoints are
plain stacked tensor dicts (``weights_only=True``).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import stack_module_state

from secretlab.envs.triggers import N_ACTIONS
from secretlab.validation import check_choice


#: What a Q-network reads: the paper's full grid, or the same grid re-centred on the agent (an extension,
#: :func:`secretlab.envs.triggers.egocentric_grid`); both have 3 channels.
OBSERVATIONS = ("grid", "egocentric")


def input_side(grid_size: int, observation: str = "grid") -> int:
    """Side of the network's input for a ``grid_size`` maze: the grid, or 2·size − 1 for the egocentric view."""
    check_choice("observation", observation, OBSERVATIONS)
    return int(grid_size) if observation == "grid" else 2 * int(grid_size) - 1


class QNetwork(nn.Module):
    """The paper's small DQN: conv 8 (3×3, stride 2) → conv 16 (3×3) → conv 16 (3×3) → FC 64 → |A|.

    Input: ``(B, 3, side, side)`` views of a ``grid_size`` maze (uint8 or float in {0, 1}):
    the full grid (``observation="grid"``, channels agent, trigger, prize; side = size) or
    the egocentric grid (channels inside, trigger, prize; side = 2·size − 1). Output:
    ``(B, n_actions)`` Q-values. Every conv has padding 1, so an 8×8 grid gives 16·4·4 =
    256 features and a 12×12 grid 16·6·6 = 576: the FC layer's shape records the input
    size, which is why weights cannot move between sizes or views (:func:`check_compatible`).
    """

    def __init__(self, grid_size: int = 8, n_actions: int = N_ACTIONS, observation: str = "grid") -> None:
        super().__init__()
        self.grid_size = int(grid_size)
        self.n_actions = int(n_actions)
        self.observation = observation
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=1, padding=1)
        self.conv3 = nn.Conv2d(16, 16, 3, stride=1, padding=1)
        self.fc = nn.Linear(feature_size(input_side(grid_size, observation)), 64)
        self.head = nn.Linear(64, n_actions)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        x = grid.float()
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        x = F.relu(self.fc(x.flatten(-3)))
        return self.head(x)


def feature_size(grid_size: int) -> int:
    """Flattened conv features for a ``grid_size``² input: 16·⌈size/2⌉²."""
    side = (int(grid_size) + 2 - 3) // 2 + 1
    return 16 * side * side


class SeedBatchedQ:
    """``S`` independent :class:`QNetwork` s stored as stacked parameters ``(S, ...)``.

    ``q(obs)`` maps obs ``(S, B, 3, size, size)`` to Q-values ``(S, B, n_actions)``;
    network ``i`` only ever sees ``obs[i]``. The convolutions run as ONE grouped
    convolution (``groups=S``) and the dense layers as one batched matmul; on this
    CPU that beat ``torch.vmap(functional_call)`` by ~2x when acting (batch 1) and
    tied when training (measured with S=20; see ``docs/dqn.md``).
    """

    def __init__(self, networks: Sequence[QNetwork], device: str | torch.device = "cpu") -> None:
        if len(networks) < 1:
            raise ValueError("networks must hold at least one QNetwork")
        sizes = {(n.grid_size, n.n_actions, n.observation) for n in networks}
        if len(sizes) != 1:
            raise ValueError(f"all networks must share grid_size, n_actions and observation, got {sorted(sizes)}")
        self.grid_size, self.n_actions, self.observation = sizes.pop()
        self.device = torch.device(device)
        params, _ = stack_module_state([n.to(self.device) for n in networks])
        self.params = {k: nn.Parameter(v.detach().clone()) for k, v in params.items()}

    @property
    def n_networks(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def __call__(self, obs: torch.Tensor, params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        return batched_forward(self.params if params is None else params, obs.to(self.device))

    def detached_copy(self) -> dict[str, torch.Tensor]:
        """A frozen copy of the stacked parameters (the target network)."""
        return {k: v.detach().clone() for k, v in self.params.items()}

    def state_dict_of(self, i: int) -> dict[str, torch.Tensor]:
        """Network ``i`` as a plain :class:`QNetwork` state dict."""
        return {k: v[i].detach().clone() for k, v in self.params.items()}

    def network(self, i: int) -> QNetwork:
        net = QNetwork(self.grid_size, self.n_actions, self.observation)
        net.load_state_dict(self.state_dict_of(i))
        return net

    def stacked_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().clone() for k, v in self.params.items()}


def batched_forward(params: dict[str, torch.Tensor], obs: torch.Tensor) -> torch.Tensor:
    """:meth:`QNetwork.forward` for S stacked networks: obs (S, B, 3, H, W) -> Q (S, B, A).

    The S networks' channels sit side by side (B, S·C, H, W) so one grouped conv
    applies network i's filters to network i's channels only. Activations are
    channels-last in memory (``(B, H, W, S·C)``): oneDNN's grouped convs run faster that way here
    (the stride-2 first conv ~3.5× faster; docs/dqn.md).
    """
    n_nets, batch, _, height, width = obs.shape
    h = obs.permute(1, 3, 4, 0, 2).reshape(batch, height, width, -1).float().permute(0, 3, 1, 2)
    for name, stride in (("conv1", 2), ("conv2", 1), ("conv3", 1)):
        w = params[f"{name}.weight"]
        h = F.relu(F.conv2d(h, w.reshape(-1, *w.shape[2:]), params[f"{name}.bias"].reshape(-1),
                            stride=stride, padding=1, groups=n_nets))
    h = h.reshape(batch, n_nets, -1).transpose(0, 1)  # (S, B, features), same order as Flatten
    h = F.relu(torch.baddbmm(params["fc.bias"][:, None], h, params["fc.weight"].transpose(1, 2)))
    return torch.baddbmm(params["head.bias"][:, None], h, params["head.weight"].transpose(1, 2))


def fresh_networks(grid_size: int, seeds: Sequence[int], observation: str = "grid") -> list[QNetwork]:
    """One freshly initialised :class:`QNetwork` per seed (PyTorch's default init, seeded)."""
    nets = []
    for s in seeds:
        torch.manual_seed(int(s))
        nets.append(QNetwork(grid_size, observation=observation))
    return nets


def networks_from_stacked(state: dict[str, torch.Tensor], grid_size: int,
                          pick: Sequence[int] | None = None, source: str = "source checkpoint",
                          observation: str = "grid") -> list[QNetwork]:
    """Unstack a checkpoint into :class:`QNetwork` s for ``grid_size`` grids seen as ``observation`` (rows ``pick``)."""
    check_compatible(state, grid_size, source=source, observation=observation)
    n = next(iter(state.values())).shape[0]
    rows = range(n) if pick is None else pick
    nets = []
    for i in rows:
        net = QNetwork(grid_size, observation=observation)
        net.load_state_dict({k: v[int(i)] for k, v in state.items()})
        nets.append(net)
    return nets


def check_compatible(stacked_state: dict[str, torch.Tensor], grid_size: int,
                     source: str = "source checkpoint", observation: str = "grid") -> None:
    """Raise a ValueError unless stacked weights ``(S, ...)`` fit a ``grid_size`` Q-network reading ``observation``."""
    expected = {k: tuple(v.shape) for k, v in QNetwork(grid_size, observation=observation).state_dict().items()}
    got = {k: tuple(v.shape[1:]) for k, v in stacked_state.items()}
    if set(got) != set(expected):
        raise ValueError(f"{source} is not a QNetwork: parameters {sorted(got)}, expected {sorted(expected)}")
    for name, shape in expected.items():
        if got[name] != shape:
            sizes = _grid_sizes_of(got.get("fc.weight", (0, 0))[1])
            hint = f" (trained on {' or '.join(f'{s}×{s}' for s in sizes)} grids)" if sizes else ""
            raise ValueError(
                f"{source} does not fit the target observation: {name} has shape {got[name]}{hint}, "
                f"but a Q-network for {grid_size}×{grid_size} grids ({observation} view) needs {shape}; weight "
                f"transfer needs the same grid size and view (the SECRET shaping does not)"
            )


def _grid_sizes_of(n_features: int) -> list[int]:
    """Input sides whose conv features have ``n_features`` (7 and 8 both give 256)."""
    return [size for size in range(3, 257) if feature_size(size) == n_features]


def save_stacked(path, q: SeedBatchedQ) -> None:
    """Save the stacked weights atomically (a plain tensor dict: loads with ``weights_only=True``)."""
    from secretlab.cache import atomic_path

    with atomic_path(path) as tmp:
        torch.save(q.stacked_state(), tmp)


def load_stacked(path) -> dict[str, torch.Tensor]:
    """Stacked weights (``weights_only=True``, hash-checked if cached); a bad file raises ``ArtifactError``."""
    from secretlab.cache import read_torch, read_verified

    return read_verified(path, read_torch)
