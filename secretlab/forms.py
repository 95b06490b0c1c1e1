"""The three ways to turn credit rows into shaping, behind one function.

``FORMS``
    ``phi``
        The paper's potential φ̂ (§2.2): each step's credit forwarded to the
        state it led into, summed over D, divided by |D|; correct rows of both
        signs (``credit_signs="nonzero"``). A *bump* on the states just after the
        credited actions (docs/shaping.md explains why that slows Q-learning).
    ``carried``
        An extension: the credit a trajectory has *carried into* each state
        (cumulative forwarding), averaged over visits; correct +1 rows only,
        because carried −1 credit makes negative potentials, and a negative φ
        pays for every move into a wall. A step-shaped state potential.
    ``advice``
        An extension: the credit kept on the (state, action) pair it was given
        to, Φ(s, a) = R←(s, a)/|D|, used as look-ahead advice
        (:mod:`secretlab.advice`); correct +1 rows only by default.

Every form takes the rows of any credit source (:mod:`secretlab.credit_controls`)
and returns a :class:`secretlab.shaping.Potential` (``phi``, ``carried``) or a
:class:`secretlab.advice.Advice` (``advice``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secretlab.advice import Advice, advice_from_rows
from secretlab.envs.triggers import TriggersConfig
from secretlab.shaping import Potential, potential_from_rows
from secretlab.validation import check_choice

FORMS = ("phi", "carried", "advice")
SIGNS = ("nonzero", "positive")


@dataclass(frozen=True)
class FormSigns:
    """Which correct rows each form uses (one field per form)."""

    phi: str = "nonzero"
    """The paper's φ̂: correct ±1 rows (the paper's wording)."""
    carried: str = "positive"
    """Carried credit: correct +1 rows (carried −1 credit sets the wall-bump trap)."""
    advice: str = "positive"
    """Advice: correct +1 rows (−1 credit on activations would advise against them)."""

    def __post_init__(self) -> None:
        for form in FORMS:
            check_choice(f"signs of form {form!r}", getattr(self, form), SIGNS)


def check_form(form: str) -> str:
    return check_choice("potential form", form, FORMS)


def shaping_from_rows(form: str, rows: Any, dataset: Any, env: TriggersConfig, maze_seed: int, gamma: float,
                      n_trajectories: int, source: str, signs: FormSigns = FormSigns()) -> Potential | Advice:
    """The ``form`` shaping of one maze from credit ``rows`` of its first ``n_trajectories`` episodes."""
    check_form(form)
    if form == "advice":
        return advice_from_rows(rows, dataset, env, maze_seed, gamma, signs=signs.advice,
                                n_trajectories=n_trajectories, source=source)
    if form == "carried":
        return potential_from_rows(rows, dataset, env, maze_seed, gamma, n_trajectories=n_trajectories,
                                   signs=signs.carried, forward="cumulative", normalise="visits", source=source)
    return potential_from_rows(rows, dataset, env, maze_seed, gamma, n_trajectories=n_trajectories,
                               signs=signs.phi, source=source)
