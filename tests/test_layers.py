"""The import graph is layered (DEVELOPERS.md, "Layers"): a lower layer never imports a higher one."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "secretlab"
#: Modules of the lower layers (envs → data → model → training → credit → shaping → agents, with stats and
#: the cache/validation helpers beside them), as paths relative to the package.
LOWER = ["envs", "data", "model.py", "training.py", "checkpoints.py", "cache.py", "validation.py", "seeds.py",
         "progress.py", "determinism.py", "engine.py", "credit.py",
         "credit_controls.py", "shaping.py", "advice.py", "forms.py", "wrappers.py", "agents", "stats.py"]
#: What they must never import: experiments, profiles, the notebook/CLI side and plotting.
HIGHER = ("secretlab.experiments", "secretlab.profiles", "secretlab.notebook", "secretlab.runner",
          "secretlab.widgets", "secretlab.plots", "secretlab.credit_plots", "secretlab.transfer_plots",
          "secretlab.keys_doors_plots", "secretlab.inverted_plots", "secretlab.cli", "secretlab.report")
#: What the experiments must never import: the notebook/CLI side and plotting (figures are drawn above them).
FRONT = tuple(h for h in HIGHER if h not in ("secretlab.experiments", "secretlab.profiles"))


def lower_modules() -> list[Path]:
    out = []
    for name in LOWER:
        path = PACKAGE / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def imports_of(path: Path) -> set[str]:
    """Every module imported anywhere in ``path``, function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", lower_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_lower_layer_imports_no_higher_one(path):
    bad = sorted(m for m in imports_of(path) if any(m == h or m.startswith(h + ".") for h in HIGHER))
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "experiments").glob("*.py")), ids=lambda p: p.name)
def test_experiments_import_no_plotting_and_no_front_end(path):
    bad = sorted(m for m in imports_of(path) if any(m == h or m.startswith(h + ".") for h in FRONT))
    assert not bad, f"experiments/{path.name} imports {bad}"


def test_the_check_sees_a_violation(tmp_path):
    planted = tmp_path / "bad.py"
    planted.write_text("def f():\n    from secretlab.profiles import reward_model_recipe\n")
    assert "secretlab.profiles" in imports_of(planted)


# ------------------------------------------------------------------ sizes a newcomer can read
MAX_MODULE_LINES, MAX_FUNCTION_LINES, MAX_CELL_LINES = 500, 80, 25


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_short(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name} has {len(text.splitlines())} lines"
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


NOTEBOOKS = sorted((PACKAGE.parent / "notebooks").rglob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_stay_thin(path):
    import json

    cells = json.loads(path.read_text())["cells"]
    long = [(i, len(c["source"])) for i, c in enumerate(cells)
            if c["cell_type"] == "code" and len(c["source"]) > MAX_CELL_LINES]
    assert not long, f"{path.name}: code cells over {MAX_CELL_LINES} lines (index, lines): {long}"
