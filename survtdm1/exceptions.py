"""Errors and warnings raised by survtdm1.

Every error about the user's input subclasses :class:`SurvTDM1Error`, itself a
``ValueError``, so ``except ValueError`` keeps working.  The command line turns
these into one line on stderr and exit status 2.

Warnings have classes so that they can be filtered, and they are also carried
in the result objects (``result.warnings``) so that a forest-plot row can say
why its estimate is missing.
"""

from __future__ import annotations


class SurvTDM1Error(ValueError):
    """Base class of every survtdm1 input error."""


class InputError(SurvTDM1Error):
    """The cohort data are invalid (missing column, bad times, bad codes...)."""


class PlanError(SurvTDM1Error):
    """The analysis plan is malformed (unknown key, wrong type, bad value)."""


class SurvTDM1Warning(UserWarning):
    """Base class of survtdm1 warnings."""


class ConvergenceWarning(SurvTDM1Warning):
    """A model fit did not converge or an estimate diverged."""


class SmallSampleWarning(SurvTDM1Warning):
    """A subgroup level has too few events for a reliable estimate."""


class SeparationWarning(SurvTDM1Warning):
    """Monotone likelihood: an arm of a level has no events (or no responders)."""


class OutputError(SurvTDM1Error):
    """The output folder cannot be written safely (a symlink, locked by another run...)."""


class ArmValueWarning(SurvTDM1Warning):
    """Arm values that differ from the treatment or control value only by case or spaces."""
