"""The dependency lists agree: requirements.in, requirements.txt (pins), environment.yml, pyproject."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[=<>!~\[ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _lines(path: Path) -> list[str]:
    return [l.strip() for l in path.read_text().splitlines() if l.strip() and not l.strip().startswith("#")]


def direct_requirements() -> dict[str, str]:
    return {_name(l): l for l in _lines(ROOT / "requirements.in")}


def test_every_direct_dependency_is_pinned_in_requirements_txt():
    pins = {_name(l): l for l in _lines(ROOT / "requirements.txt")}
    for name in direct_requirements():
        assert name in pins, f"{name} is in requirements.in but not pinned in requirements.txt"
        assert "==" in pins[name], f"{name} is not pinned exactly: {pins[name]}"
    assert pins["torch"] == "torch==2.13.0"


def test_environment_yml_lists_the_same_packages():
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    names = {_name(l.strip()[2:]) for l in pip_section.splitlines() if l.strip().startswith("- ") and "-e" not in l}
    assert names == set(direct_requirements()), "environment.yml and requirements.in differ"
    assert "torch==2.13.0" in text


def test_pyproject_runtime_dependencies_are_in_requirements_in():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(d) for d in project["dependencies"]} | {
        _name(d) for extra in project.get("optional-dependencies", {}).values() for d in extra}
    assert declared == set(direct_requirements())
    assert "torch==2.13.0" in project["dependencies"]


def test_ci_runs_make_test_only():
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script
