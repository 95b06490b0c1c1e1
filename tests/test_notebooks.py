"""Every notebook runs headless through papermill at profile="smoke" and keeps the contract (docs/design.md §3.2)."""
import json
from pathlib import Path

import nbformat
import pytest

from secretlab.runner import list_notebooks, run_notebook

NOTEBOOKS = list_notebooks()


def test_the_series_exists():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    assert NOTEBOOKS[0].stem.startswith("0")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell must be tagged 'parameters'"
    source = params[0].source
    for name in ("profile", "seed", "output_dir"):
        assert f"{name} =" in source, f"parameters cell lacks {name}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"
    # nbformat >= 4.5 requires cell ids (a missing one is a warning today, an error in later nbformat releases).
    # Read the raw JSON: nbformat.read fills in missing ids in memory, so `nb.cells` cannot show them.
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    ids = [cell.get("id") for cell in raw["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), "every cell needs a unique id"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_sees_every_parameter(path):
    """papermill parses each assignment of the parameters cell (a line it cannot parse is silently dropped)."""
    import re

    import papermill as pm

    nb = nbformat.read(path, as_version=4)
    source = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assigned = re.findall(r"^(\w+)\s*=", source, flags=re.M)
    assert sorted(pm.inspect_notebook(str(path))) == sorted(assigned)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_at_smoke(path, tmp_path):
    outcome = run_notebook(path, tmp_path, profile="smoke", seed=0, progress=False)
    assert outcome.ok, f"{path.name} failed at cell {outcome.failed_cell}: {outcome.error}"
    result = json.loads((tmp_path / f"{path.stem}.json").read_text())
    assert result["notebook"] == path.stem and result["profile"] == "smoke"
    figures = list((tmp_path / "figures").glob("*.png"))
    assert figures, "the notebook wrote no figure"
    for fig in figures:
        assert fig.stat().st_size > 1000, f"{fig.name} looks empty"
    check = CONTRACT_CHECKS.get(path.stem)
    if check:
        check(result)


def _check_credit(result):
    assert isinstance(result["scenarios"], list) and result["scenarios"]
    for s in result["scenarios"]:
        assert {"size", "n_triggers", "n_prizes", "precision", "recall", "n_rows"} <= set(s)
        assert len(s["precision_per_seed"]) == len(result["seeds"]) == s["n_seeds"]
        assert s["n_rows"] == sum(s["n_rows_per_seed"])
    assert 0 <= result["mean_precision"] <= 1 and 0 <= result["mean_recall"] <= 1
    assert result["mean_precision_std"] >= 0


def _check_in_domain(result):
    for arm in ("q_learning", "q_learning_secret"):
        assert arm in result, f"arm {arm} missing"
        assert "episodes_to_80" in result[arm]


CONTRACT_CHECKS = {"03_credit": _check_credit, "04_in_domain_transfer": _check_in_domain}


EXTRAS = sorted((NOTEBOOKS[0].parent / "extras").glob("*.ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", EXTRAS, ids=lambda p: p.stem)
def test_extra_notebook_runs_at_smoke_and_writes_its_static_twin(path, tmp_path):
    """Notebooks outside the series (e.g. the Voila app of `make inspector`) run headless too."""
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    outcome = run_notebook(path, tmp_path, profile="smoke", seed=0, progress=False)
    assert outcome.ok, f"{path.name} failed at cell {outcome.failed_cell}: {outcome.error}"
    figures = list((tmp_path / "figures").glob("*.png"))
    assert figures and all(f.stat().st_size > 1000 for f in figures)
