"""Newton-Raphson with step halving: the one loop and the one set of tolerances.

The ordinary Cox fit (:mod:`survtdm1.cox`), the batched Cox fits
(:mod:`survtdm1.cox_batch`, the same arithmetic on many fits at once) and
the Firth-penalised fits (:mod:`survtdm1.firth`) all maximise a
log-likelihood by Newton steps, each halved while the log-likelihood falls,
as R ``coxph`` does. They share this module's tolerances and helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_ITER = 50  # Newton iterations of an ordinary fit (R coxph: 20, then a warning)
MAX_ITER_PENALISED = 100  # a penalised fit may need more (coxphf: 50, logistf: 25 x 2)
STEP_TOL = 1e-9  # a step this small means quadratic convergence: the next is ~1e-18
SCORE_TOL = 1e-8  # and, for penalised fits, a score this small
MAX_HALVINGS = 30
# a log-likelihood lower by less than this (relative to its size, at least 1) is not a
# fall: a sum over many events carries rounding noise of about 1e-13 of its size, and a
# step near the maximum must not be halved (and the fit stopped short) for that noise
LOGLIK_SLACK = 1e-12
# a halved step that changed the log-likelihood by less than this (relative to its size,
# at least 1) has settled: the fit has converged
SETTLE_TOL = 1e-13
COND_LIMIT = 1e12  # information matrices worse conditioned than this are singular
MAX_COEF = 10.0  # |log HR| beyond this: a diverging (monotone) likelihood
# the rules above in the order the compiled kernel takes them (survtdm1/_cellfit.c)
RULES = (MAX_ITER, MAX_HALVINGS, STEP_TOL, LOGLIK_SLACK, SETTLE_TOL, COND_LIMIT, MAX_COEF)

# (log-likelihood, score, information) at a coefficient vector
Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def _falls(loglik: float, new_loglik: float) -> bool:
    return not np.isfinite(new_loglik) or new_loglik < loglik - LOGLIK_SLACK * max(1.0, abs(loglik))


@dataclass(frozen=True)
class Step:
    """The point a halved Newton step reached and how many halvings it took."""

    beta: np.ndarray
    values: tuple  # (loglik, score, info) at beta
    halvings: int
    accepted: bool


def halve(
    evaluate: Evaluate,
    beta: np.ndarray,
    step: np.ndarray,
    loglik: float,
    accept: Callable[[tuple], bool] | None = None,
) -> Step:
    """Take ``beta + step``, halving the step while the log-likelihood falls.

    ``beta`` and ``step`` may be arrays or, for one coefficient, floats.
    ``accept(values)`` decides whether the point is good enough (default: the
    log-likelihood does not fall by more than ``LOGLIK_SLACK``); after
    ``MAX_HALVINGS`` halvings the last point is returned with ``accepted``
    False.
    """
    accept = accept or (lambda values: not _falls(loglik, values[0]))
    for halvings in range(MAX_HALVINGS + 1):
        new_beta = beta + step
        values = evaluate(new_beta)
        if accept(values):
            return Step(new_beta, values, halvings, True)
        step = step / 2.0
    return Step(new_beta, values, MAX_HALVINGS, False)


def newton_step(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``info^-1 score`` for one fit (least squares where ``info`` is singular)."""
    if info.shape == (1, 1):
        with np.errstate(divide="ignore", invalid="ignore"):
            return score / info[0]
    try:
        return np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(info, score, rcond=None)[0]


def newton_steps(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``info^-1 score`` for a batch of fits: ``(B, p, p), (B, p) -> (B, p)``."""
    try:
        return np.linalg.solve(info, score[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return np.einsum("bpq,bq->bp", np.linalg.pinv(info), score)


def invert(info: np.ndarray) -> np.ndarray:
    """Inverse information of one fit ``(p, p)`` or of a batch ``(B, p, p)``.

    NaN where the matrix is not finite or worse conditioned than
    ``COND_LIMIT`` (a diverging fit or an aliased column).
    """
    if info.shape == (1, 1):  # one coefficient: its condition number is 1 unless 0 or not finite
        value = float(info[0, 0])
        ok = np.isfinite(value) and value != 0.0
        return np.array([[1.0 / value if ok else np.nan]])
    if info.ndim == 2:
        return invert(info[None])[0]
    fits = info.shape[0]
    out = np.full_like(info, np.nan)
    finite = np.all(np.isfinite(info.reshape(fits, -1)), axis=1)
    ok = np.flatnonzero(finite)
    if ok.size == 0:
        return out
    cond = np.linalg.cond(info[ok])
    ok = ok[np.isfinite(cond) & (cond <= COND_LIMIT)]
    if ok.size:
        out[ok] = np.linalg.inv(info[ok])
    return out


def diverged(beta: np.ndarray, var: np.ndarray) -> np.ndarray | bool:
    """A fit (or each fit of a batch) whose estimate or variance is not usable."""
    if beta.shape == (1,):
        b, v = float(beta[0]), float(var[0, 0])
        return abs(b) > MAX_COEF or not np.isfinite(v) or v <= 0
    if beta.ndim == 1:  # one fit (p,), (p, p): the same tests without the batch's axes
        return bool(
            (np.abs(beta) > MAX_COEF).any()
            or not np.isfinite(var).all()
            or (var.diagonal() <= 0).any()
        )
    # a batch (B, p), (B, p, p): along the last axes
    bad = (
        np.any(np.abs(beta) > MAX_COEF, axis=-1)
        | ~np.all(np.isfinite(var.reshape(*beta.shape[:-1], -1)), axis=-1)
        | np.any(np.diagonal(var, axis1=-2, axis2=-1) <= 0, axis=-1)
    )
    return bool(bad) if beta.ndim == 1 else bad
