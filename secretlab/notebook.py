"""The notebook side of the contract (docs/design.md §3.2), so notebooks stay thin.

A notebook's first code cell (tagged ``parameters``) sets ``profile``, ``seed``,
``output_dir`` and its own optional overrides (``None`` = take the profile's
value). The next cell calls :func:`setup`, which resolves the parameters and
gives a :class:`NotebookRun` that saves figures to ``{output_dir}/figures/`` and
the headline numbers to ``{output_dir}/{stem}.json``.
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretlab.cache import atomic_write_json
from secretlab.profiles import NOTEBOOKS, check_profile, notebook_params
from secretlab.validation import check_like, suggest

#: Overrides whose consumer accepts a type family the profile tables never use:
#: notebook 06's ``source_mazes`` is "fresh", "target" or an int K (``secretlab.experiments.inverted.InvertedConfig``).
_ALSO_ALLOWED = {"source_mazes": ("int",)}


@dataclass
class NotebookRun:
    stem: str
    profile: str
    seed: int
    output_dir: Path
    params: dict[str, Any]
    started: float = field(default_factory=time.time)
    figures_written: list[str] = field(default_factory=list)

    @property
    def figures_dir(self) -> Path:
        path = self.output_dir / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def figure(self, fig, name: str, dpi: int = 120) -> Path:
        """Save ``fig`` as ``figures/{stem}_{name}.png`` and return the path."""
        from secretlab.plots import save_figure

        path = save_figure(fig, self.figures_dir / f"{self.stem}_{name}.png", dpi=dpi)
        self.figures_written.append(path.name)
        return path

    def save_json(self, results: dict[str, Any]) -> Path:
        """Write ``{output_dir}/{stem}.json``: the results plus the run's parameters."""
        payload = {
            "notebook": self.stem,
            "profile": self.profile,
            "seed": self.seed,
            "params": self.params,
            "runtime_s": round(time.time() - self.started, 2),
            "figures": list(self.figures_written),
            "python": platform.python_version(),
            **results,
        }
        path = self.output_dir / f"{self.stem}.json"
        atomic_write_json(path, payload)
        return path


def resolve_params(stem: str, profile: str, seed: int, **overrides: Any) -> dict[str, Any]:
    """A notebook's parameters: the profile's table, then the non-None overrides.

    An override must have the type family of the table's value for that name in any
    profile (see :func:`secretlab.validation.check_like`: int for int, number for float,
    list for list, dict with the same keys for dict, str for str; counts ``n_*`` >= 1).
    """
    check_profile(profile)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    params = notebook_params(stem, profile)
    unknown = [k for k in overrides if k not in params]
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for notebook {stem!r}; allowed: {sorted(params)}"
                         f"{suggest(unknown[0], params)}")
    for name, value in overrides.items():
        if value is not None:
            references = [table[name] for table in NOTEBOOKS[stem].values() if table.get(name) is not None]
            check_like(name, value, references, _ALSO_ALLOWED.get(name, ()))
    params.update({k: v for k, v in overrides.items() if v is not None})
    return params


def setup(stem: str, profile: str, seed: int, output_dir: str | Path, **overrides: Any) -> NotebookRun:
    """Resolve a notebook's parameters (:func:`resolve_params`) and prepare its output folder."""
    params = resolve_params(stem, profile, seed, **overrides)
    out = Path(output_dir).resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir must be a folder, got {str(output_dir)!r}, an existing file")
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib
    import torch

    from secretlab.determinism import RESULT_THREADS

    matplotlib.rcParams.update({"figure.dpi": 90, "savefig.dpi": 120})
    torch.set_num_threads(RESULT_THREADS)  # the notebook's own numbers too: the same on every machine
    return NotebookRun(stem, profile, seed, out, params)


def load_json(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
