"""Binary-endpoint estimators on arrays: logistic fits, exact proportions, 2x2 odds ratios.

The odds ratio of a 2x2 table is that of ``glm(response ~ arm, family =
binomial)`` with its Wald CI (``confint.default``) and Wald p; the risk
difference has a Wald CI; a proportion has an exact (Clopper-Pearson) CI as
``binom.test``. Larger models (interaction tests) are fitted with statsmodels'
GLM, as R ``glm``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import _special as special

NAN = float("nan")
MAX_COEF = 15.0  # a |coefficient| beyond this is taken as separation, as R's glm warns


def normal_quantile(conf_level: float) -> float:
    """The two-sided normal quantile of ``conf_level`` (1.959964 for 0.95)."""
    return float(special.ndtri(0.5 + conf_level / 2.0))


def exact_interval(responders: int, n: int, conf_level: float) -> tuple[float, float]:
    """Clopper-Pearson limits of a proportion, as R ``binom.test(responders, n)$conf.int``.

    >>> [round(v, 4) for v in exact_interval(3, 10, 0.95)]
    [0.0667, 0.6525]
    """
    if n == 0:
        return NAN, NAN
    alpha = 1.0 - conf_level
    lower = (
        0.0 if responders == 0 else special.betaincinv(responders, n - responders + 1, alpha / 2)
    )
    upper = (
        1.0
        if responders == n
        else special.betaincinv(responders + 1, n - responders, 1 - alpha / 2)
    )
    return float(lower), float(upper)


@dataclass(frozen=True)
class TwoByTwo:
    """Odds ratio and risk difference of treatment vs control (Wald, as R ``glm``).

    ``odds_ratio`` and its limits are NaN when a cell is empty (an arm with no
    or only responders): then ``empty_cell`` names it ("no responders" or
    "only responders") and ``empty_arm`` says which arm ("treatment" or
    "control").
    """

    odds_ratio: float
    or_lower: float
    or_upper: float
    p_value: float
    rd: float
    rd_lower: float
    rd_upper: float
    empty_cell: str = ""
    empty_arm: str = ""


def two_by_two(r_t: int, n_t: int, r_c: int, n_c: int, conf_level: float) -> TwoByTwo:
    """OR (Wald CI and p) and risk difference (Wald CI) of a 2x2 table; both arms non-empty.

    >>> round(two_by_two(6, 10, 3, 10, 0.95).odds_ratio, 4)
    3.5
    """
    z = normal_quantile(conf_level)
    p_t, p_c = r_t / n_t, r_c / n_c
    se_rd = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    rd = p_t - p_c
    for arm, responders, n in (("treatment", r_t, n_t), ("control", r_c, n_c)):
        if responders == 0 or responders == n:
            which = "no responders" if responders == 0 else "only responders"
            return TwoByTwo(NAN, NAN, NAN, NAN, rd, rd - z * se_rd, rd + z * se_rd, which, arm)
    log_or = math.log(r_t / (n_t - r_t)) - math.log(r_c / (n_c - r_c))
    se = math.sqrt(1 / r_t + 1 / (n_t - r_t) + 1 / r_c + 1 / (n_c - r_c))
    return TwoByTwo(
        odds_ratio=math.exp(log_or),
        or_lower=math.exp(log_or - z * se),
        or_upper=math.exp(log_or + z * se),
        p_value=float(special.erfc(abs(log_or / se) / math.sqrt(2.0))),
        rd=rd,
        rd_lower=rd - z * se_rd,
        rd_upper=rd + z * se_rd,
    )


def logistic_fit(y: np.ndarray, X: np.ndarray):
    """Fit ``glm(y ~ X, family = binomial)`` (statsmodels); None when the fit fails."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            model = sm.GLM(y, sm.add_constant(X, has_constant="add"), family=sm.families.Binomial())
            return model.fit()
        except (np.linalg.LinAlgError, ValueError):
            return None


def separated(fit) -> bool:
    """True when a logistic fit failed or its estimates diverge (separation)."""
    return fit is None or not np.all(np.isfinite(fit.bse)) or np.any(np.abs(fit.params) > MAX_COEF)


def chi2_sf(statistic: float, df: int) -> float:
    """Upper tail of the chi-square distribution (without importing scipy.stats)."""
    return float(special.chdtrc(df, statistic))
