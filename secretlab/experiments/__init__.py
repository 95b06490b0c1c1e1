"""Experiment drivers: one module per experiment, above every layer they use (they may read the profiles).

Each experiment takes one typed config and returns one result, and its result speaks the same small
contract, :class:`ExperimentResult`: ``paper_comparison()`` (rows of quantity / paper / ours / note),
``tables()`` (named lists of rows for the generated report) and ``report()`` (the notebook's JSON, which
contains both). The figures are drawn above this layer (``secretlab.*_plots``).

| notebook | module | config -> result |
|---|---|---|
| 02 | :mod:`~secretlab.experiments.reward_model` | ``report(trained, rows, ...)`` |
| 03 | :mod:`~secretlab.experiments.credit` | ``run(CreditExperiment) -> CreditStudy`` |
| 04, 05 | :mod:`~secretlab.experiments.transfer` (+ ``transfer_report``) | ``run_transfer(TransferConfig, model) -> TransferResult`` |
| 06 | :mod:`~secretlab.experiments.inverted` (+ ``inverted_report``) | ``run_inverted(InvertedConfig) -> InvertedResult`` |
| 07 | :mod:`~secretlab.experiments.keys_doors` | ``run(KeysDoorsExperiment) -> KeysDoorsResult`` |
| 08 | :mod:`~secretlab.experiments.inspector` | readings of a ``CreditInspector`` |
| all | :mod:`~secretlab.experiments.source` | ``source_model(env, profile, seed)``: the shared reward model |
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ExperimentResult(Protocol):
    """What every experiment's result offers the notebooks and the generated report."""

    def paper_comparison(self) -> list[dict[str, Any]]:
        """Rows ``{"quantity", "paper", "ours", "note"}``: each measured quantity beside the paper's."""

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Named tables (lists of rows) for the report."""

    def report(self) -> dict[str, Any]:
        """The notebook's JSON: headline numbers, ``paper_comparison`` and ``tables``."""
