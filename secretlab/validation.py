"""Small argument checks shared by configs, notebooks and the command line.

Every check raises ``ValueError(f"{name} must be ..., got {value!r}")`` (naming the
parameter, the bad value and what is allowed) and returns the value unchanged, so a
check never alters what is hashed into a cache key.
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Collection, Iterable

import numpy as np


def is_int(value: Any) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """A Python or numpy real number, not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> Any:
    """``value`` if it is an integer in [minimum, maximum] (either bound optional)."""
    if not is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer{_bounds(minimum, maximum)}, got {value!r}")
    return value


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                 finite: bool = True, open_low: bool = False, open_high: bool = False) -> Any:
    """``value`` if it is a real number within the bounds (``open_*``: the bound itself excluded).

    NaN is always rejected; ``finite=False`` lets ±inf through (when the bounds allow it).
    """
    ok = is_number(value) and not math.isnan(value) and (not finite or math.isfinite(value))
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if not ok:
        what = "a finite number" if finite else "a number"
        lo = "" if low is None else f" {'>' if open_low else '>='} {low}"
        hi = "" if high is None else f"{' and' if lo else ''} {'<' if open_high else '<='} {high}"
        raise ValueError(f"{name} must be {what}{lo}{hi}, got {value!r}")
    return value


def check_finite_loss(name: str, value: float, epoch: int, step: int | None = None, lr: float | None = None) -> float:
    """``value`` if finite; else FloatingPointError naming the epoch and step (training must stop)."""
    if not math.isfinite(value):
        where = f"epoch {epoch}" + ("" if step is None else f", step {step}")
        hint = "" if lr is None else f" (lr={lr}: try a lower lr, and check the data for NaN/inf observations)"
        raise FloatingPointError(f"{name} became {value} at {where}; training stopped and nothing was cached{hint}")
    return value


def check_choice(name: str, value: Any, allowed: Collection[Any]) -> Any:
    """``value`` if it is one of ``allowed``; the error suggests the closest allowed name."""
    try:
        ok = value in allowed
    except (TypeError, ValueError):  # an unhashable value against a set, an array against a tuple
        ok = False
    if not ok:
        shown = list(allowed) if isinstance(allowed, (list, tuple)) else sorted(allowed, key=str)
        raise ValueError(f"{name} must be one of {shown}, got {value!r}{suggest(value, shown)}")
    return value


def suggest(value: Any, allowed: Iterable[Any]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``allowed`` to a string ``value``, else ``""``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(a) for a in allowed], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    return "" if maximum is None else f" <= {maximum}"


# ------------------------------------------------------------------ profile-table overrides
#: Type family of a profile-table value (bool before int: a bool is an int in Python).
_FAMILIES: tuple[tuple[str, Any], ...] = (("bool", lambda v: isinstance(v, (bool, np.bool_))),
                                          ("int", is_int), ("number", is_number), ("str", lambda v: isinstance(v, str)),
                                          ("list", lambda v: isinstance(v, (list, tuple))),
                                          ("dict", lambda v: isinstance(v, dict)))
_FAMILY_TEXT = {"bool": "True or False", "int": "an integer", "number": "a finite number", "str": "a string",
                "list": "a list", "dict": "a dict"}


def family(value: Any) -> str | None:
    """``"bool"``, ``"int"``, ``"number"`` (floats), ``"str"``, ``"list"``, ``"dict"`` or None (anything else)."""
    if isinstance(value, (float, np.floating)):
        return "number"
    return next((name for name, test in _FAMILIES if test(value)), None)


def check_like(name: str, value: Any, references: list[Any], also: tuple[str, ...] = ()) -> Any:
    """``value`` if it has the type family of the profile's ``references`` (or one of ``also``).

    ``references``: the non-None values the profile tables give this parameter. An int counts
    as a number; a name starting with ``n_`` is a count (an integer >= 1); numbers must be
    finite; list items and dict entries are checked against the references' own items and
    entries (a dict must have exactly the references' keys). No references: any value.
    """
    families = [f for f in dict.fromkeys(family(r) for r in references) if f is not None]
    if not families:
        if name.startswith("n_"):
            check_int(name, value, minimum=1)
        return value
    allowed = families + [f for f in also if f not in families]
    if allowed == ["int"] and name.startswith("n_"):
        return check_int(name, value, minimum=1)
    mine = family(value)
    if mine == "int" and "number" in allowed and "int" not in allowed:
        mine = "number"
    if mine not in allowed:
        text = " or ".join(_FAMILY_TEXT[f] for f in allowed)
        raise ValueError(f"{name} must be {text} (like the profile's {references[0]!r}), got {value!r}")
    if mine == "number":
        check_number(name, value)
    elif mine == "list":
        items = [x for r in references if isinstance(r, (list, tuple)) for x in r if x is not None]
        for i, item in enumerate(value):
            check_like(f"{name}[{i}]", item, items)
    elif mine == "dict":
        _check_dict(name, value, [r for r in references if isinstance(r, dict)])
    return value


def _check_dict(name: str, value: dict, references: list[dict]) -> None:
    keys = sorted({k for r in references for k in r})
    required = sorted(set.intersection(*(set(r) for r in references))) if references else []
    unknown = [k for k in value if k not in keys]
    missing = [k for k in required if k not in value]
    if unknown or missing:
        problem = f"unknown key(s) {unknown}{suggest(unknown[0], keys)}" if unknown else f"missing key(s) {missing}"
        raise ValueError(f"{name} must be a dict with the keys {keys}, got {value!r}: {problem}")
    for k, v in value.items():
        check_like(f"{name}[{k!r}]", v, [r[k] for r in references if r.get(k) is not None])
