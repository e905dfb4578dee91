"""Every keyword-option check, with one message format (floor 0).

Each check returns the value in its canonical type or raises
:class:`~survtdm1.exceptions.PlanError` with the message

    "[where: ]<name> must be <requirement>, not <value!r>"

``where`` names the function or plan table the option belongs to (e.g.
"stepp"); the analyses pass it so that a message says where to look. The
choices of the shared options (``TIES``, ``CONF_TYPES``, ...) live here so that
the estimators, the analyses and the plan reader agree on them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from .exceptions import PlanError

TIES = ("efron", "breslow")
CONF_TYPES = ("log-log", "log", "plain")
FIRTH_MODES = ("auto", "always", "never")
MULTIPLICITY = ("holm", "fdr_bh", "bonferroni")
P_METHODS = ("wald", "logrank", "lrt")
# bundles of defaults; keys given explicitly win over a convention
CONVENTIONS = {
    "r": {"ties": "efron", "conf_type": "log", "p_method": "wald"},
    "tern": {"ties": "efron", "conf_type": "plain", "p_method": "logrank"},
    "sas": {"ties": "breslow", "conf_type": "log-log", "p_method": "wald"},
}


def fail(name: str, value, requirement: str, where: str | None = None) -> PlanError:
    """The PlanError of an option that is not ``requirement``."""
    prefix = f"{where}: " if where else ""
    return PlanError(f"{prefix}{name} must be {requirement}, not {value!r}")


def is_integer(value) -> bool:
    """An int or numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def _is_bool(value) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def is_number(value) -> bool:
    """A real number that is not a bool (NaN and infinity included)."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def choice(name: str, value, choices: Sequence[str], where: str | None = None) -> str:
    """``value`` if it is one of ``choices``.

    >>> choice("ties", "efron", TIES)
    'efron'
    """
    if not isinstance(value, str) or value not in choices:
        raise fail(name, value, f"one of {', '.join(choices)}", where)
    return value


def boolean(name: str, value, where: str | None = None) -> bool:
    """``value`` if it is True or False (a TOML ``true``/``false``)."""
    if not _is_bool(value):
        raise fail(name, value, "true or false", where)
    return bool(value)


def integer(
    name: str,
    value,
    minimum: int,
    maximum: int | None = None,
    where: str | None = None,
    why: str = "",
) -> int:
    """``value`` as an int in [minimum, maximum]."""
    if not is_integer(value) or value < minimum or (maximum is not None and value > maximum):
        bounds = (
            f"between {minimum} and {maximum}{why}"
            if maximum is not None
            else f"of at least {minimum}"
        )
        raise fail(name, value, f"an integer {bounds}", where)
    return int(value)


def number(
    name: str,
    value,
    valid: Callable[[float], bool],
    requirement: str,
    where: str | None = None,
) -> float:
    """``value`` as a float: a finite real number with ``valid(value)``."""
    if not is_number(value) or not math.isfinite(value) or not valid(float(value)):
        raise fail(name, value, requirement, where)
    return float(value)


def conf_level(value, where: str | None = None) -> float:
    """A confidence level strictly between 0 and 1."""
    return number("conf_level", value, lambda v: 0.0 < v < 1.0, "a number between 0 and 1", where)


def positive(name: str, value, where: str | None = None) -> float:
    """A positive finite number (a landmark, a horizon)."""
    return number(name, value, lambda v: v > 0, "a positive finite number", where)


def optional_positive(name: str, value, where: str | None = None) -> float | None:
    """None, or a positive finite number."""
    return None if value is None else positive(name, value, where)


def seed(value, where: str | None = None):
    """None, a non-negative integer or a ``numpy.random.Generator``."""
    if value is None or type(value).__name__ == "Generator":
        return value
    if not is_integer(value) or value < 0:
        raise fail("seed", value, "None, a non-negative integer or a numpy.random.Generator", where)
    return int(value)


def n_jobs(value, where: str | None = None) -> int:
    """A non-zero integer (-1: all processors), as joblib."""
    if not is_integer(value) or value == 0:
        raise fail("n_jobs", value, "a non-zero integer (-1: all processors)", where)
    return int(value)


def ties(value, where: str | None = None) -> str:
    """Efron (as R) or Breslow (as SAS) handling of tied event times."""
    return choice("ties", value, TIES, where)


def time_list(name: str, value, where: str | None = None) -> tuple[float, ...] | None:
    """None, or a non-empty list of non-negative finite numbers (risk times)."""
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        and type(value).__name__ != "ndarray"
        or len(value) == 0
        or not all(is_number(t) for t in value)
    ):
        raise fail(name, value, "a non-empty list of non-negative finite numbers", where)
    if not all(math.isfinite(t) and t >= 0 for t in value):
        raise fail(name, value, "a non-empty list of non-negative finite numbers", where)
    return tuple(float(t) for t in value)
