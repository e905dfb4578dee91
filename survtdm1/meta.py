"""Across-trial pooling of within-trial treatment-by-subgroup interactions.

The "deft" approach (Fisher et al., BMJ 2017;356:j573): each trial contributes
the ratio of its two subgroup-level treatment effects, a within-trial
interaction that is free of between-trial differences in the levels'
prognosis; the log ratios are then pooled by inverse variance. The fixed-effect
and random-effects models, the heterogeneity statistics and the weights are
those of R metafor:

    rma(yi = log_ratio, sei = se, method = "FE")      # fixed
    rma(yi = log_ratio, sei = se, method = "REML")    # random (or "DL")

Floor 2 (estimators): tables in, a frozen result out. A trial's result is read
through its ``table`` (and ``conf_level``, ``endpoint``) attributes only.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import optimize, special

from . import _checks
from .cohort import describe_rows
from .csvread import read_written_csv
from .exceptions import InputError

__all__ = [
    "METHODS",
    "InteractionMetaResult",
    "interaction_meta",
    "pool",
    "read_analysis_outputs",
    "read_published_table",
]

#: Random-effects estimators of tau^2: restricted maximum likelihood, DerSimonian-Laird.
METHODS = ("REML", "DL")
#: The normal quantile of a 95% CI, as written in the contract.
Z_95 = 1.959964
_Z_POOLED = float(special.ndtri(0.975))  # metafor: qnorm(0.975)
TABLE_INPUT = ("trial", "level", "hr", "hr_lower", "hr_upper")
TABLE_COLUMNS = (
    "trial",
    "log_ratio",
    "se",
    "ratio",
    "ratio_lower",
    "ratio_upper",
    "weight_fixed",
    "weight_random",
    "p_value",
    "level_1",
    "level_2",
    "hr_1",
    "hr_1_lower",
    "hr_1_upper",
    "hr_2",
    "hr_2_lower",
    "hr_2_upper",
)


# --------------------------------------------------------------------------------------
# The inverse-variance models
# --------------------------------------------------------------------------------------


def _reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """Root of the restricted-likelihood score in tau^2 (0 when the score is negative there)."""

    def score(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        mu = np.sum(w * y) / np.sum(w)
        return float(np.sum(w**2 * (y - mu) ** 2) - (np.sum(w) - np.sum(w**2) / np.sum(w)))

    if score(0.0) <= 0:
        return 0.0
    upper = max(float(np.var(y)), float(v.max()), 1e-8)
    while score(upper) > 0:
        upper *= 4.0
    return float(optimize.brentq(score, 0.0, upper, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def _summary(y: np.ndarray, w: np.ndarray) -> dict:
    estimate = float(np.sum(w * y) / np.sum(w))
    se = float(1.0 / math.sqrt(np.sum(w)))
    z = estimate / se
    return {
        "log_ratio": estimate,
        "se": se,
        "ratio": math.exp(estimate),
        "ratio_lower": math.exp(estimate - _Z_POOLED * se),
        "ratio_upper": math.exp(estimate + _Z_POOLED * se),
        "z": z,
        "p_value": float(special.erfc(abs(z) / math.sqrt(2.0))),  # 2 * pnorm(-|z|)
    }


def pool(log_ratio, se, *, method: str = "REML") -> tuple[dict, np.ndarray, np.ndarray]:
    """Fixed- and random-effects inverse-variance pooling of log ratios.

    Returns ``({"fixed": {...}, "random": {...}, "tau2", "i2", "q", "df",
    "p_heterogeneity", "method"}, fixed weights %, random weights %)``. Each of
    "fixed" and "random" holds ``log_ratio, se, ratio, ratio_lower,
    ratio_upper, z, p_value, tau2, i2`` as metafor's ``rma(method = "FE")`` and
    ``rma(method = method)``: I^2 in percent, (Q - df) / Q for the fixed model
    and tau^2 / (tau^2 + typical within-trial variance) for the random one.
    The top-level ``tau2`` and ``i2`` are the random model's.
    """
    method = _checks.choice("method", method, METHODS, where="interaction_meta")
    y = np.asarray(log_ratio, dtype=float)
    v = np.asarray(se, dtype=float) ** 2
    k = y.size
    w = 1.0 / v
    fixed = _summary(y, w)
    q = float(np.sum(w * (y - fixed["log_ratio"]) ** 2))
    df = k - 1
    p_het = float(special.chdtrc(df, q)) if df > 0 else float("nan")
    trace = float(np.sum(w) - np.sum(w**2) / np.sum(w))  # tr(P) at tau^2 = 0
    if method == "DL":
        tau2 = max(0.0, (q - df) / trace) if trace > 0 else 0.0
    else:
        tau2 = _reml_tau2(y, v)
    w_random = 1.0 / (v + tau2)
    random = _summary(y, w_random)
    typical = df / trace if trace > 0 else 0.0
    fixed.update(tau2=0.0, i2=max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0)
    random.update(tau2=tau2, i2=100.0 * tau2 / (tau2 + typical) if tau2 > 0 else 0.0)
    pooled = {
        "fixed": fixed,
        "random": random,
        "tau2": tau2,
        "i2": random["i2"],
        "q": q,
        "df": df,
        "p_heterogeneity": p_het,
        "method": method,
    }
    return pooled, 100.0 * w / w.sum(), 100.0 * w_random / w_random.sum()


# --------------------------------------------------------------------------------------
# Inputs: trial results or a table of published subgroup HRs
# --------------------------------------------------------------------------------------


def _z(conf_level: float) -> float:
    return Z_95 if conf_level == 0.95 else float(special.ndtri(0.5 + conf_level / 2.0))


def _rows_of_result(name: str, result, subgroup: str) -> tuple[pd.DataFrame, str, float]:
    table = getattr(result, "table", None)
    if not isinstance(table, pd.DataFrame) or "subgroup" not in table.columns:
        raise InputError(
            f"interaction_meta: trial {name!r} must be a SubgroupResult (or a table), "
            f"not {type(result).__name__}"
        )
    effect = "or" if getattr(result, "endpoint", "survival") == "binary" else "hr"
    rows = table.loc[table["subgroup"].astype(str) == str(subgroup)]
    if rows.empty:
        shown = ", ".join(dict.fromkeys(table["subgroup"].astype(str)))
        raise InputError(
            f"interaction_meta: trial {name!r} has no subgroup {subgroup!r} (subgroups: {shown})"
        )
    frame = pd.DataFrame(
        {
            "trial": name,
            "level": rows["level"].astype(str).to_numpy(),
            "hr": rows[effect].to_numpy(dtype=float),
            "hr_lower": rows[f"{effect}_lower"].to_numpy(dtype=float),
            "hr_upper": rows[f"{effect}_upper"].to_numpy(dtype=float),
        }
    )
    conf_level = _checks.conf_level(getattr(result, "conf_level", 0.95), "interaction_meta")
    return frame, effect, conf_level


def _from_results(trials: Mapping, subgroup: str) -> tuple[pd.DataFrame, str, str]:
    frames, effects = [], set()
    for name, result in trials.items():
        frame, effect, conf_level = _rows_of_result(str(name), result, subgroup)
        frames.append(frame.assign(_z=_z(conf_level)))
        effects.add(effect)
    if len(effects) > 1:
        raise InputError(
            "interaction_meta: cannot pool hazard-ratio (survival) and odds-ratio (binary) "
            "interactions together; pool each endpoint type separately"
        )
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, effects.pop() if effects else "hr", "trials"


def _from_table(table: pd.DataFrame, subgroup: str) -> tuple[pd.DataFrame, str, str]:
    name = "trials table"
    missing = [c for c in TABLE_INPUT if c not in table.columns]
    if missing:
        raise InputError(
            f"{name}: column {', '.join(missing)} not found (columns: "
            f"{', '.join(map(str, table.columns))}; needed: {', '.join(TABLE_INPUT)})"
        )
    if "subgroup" in table.columns:
        chosen = table["subgroup"].astype(str) == str(subgroup)
        if not chosen.any():
            shown = ", ".join(dict.fromkeys(table["subgroup"].astype(str)))
            raise InputError(f"{name}: no rows of subgroup {subgroup!r} (subgroups: {shown})")
        table = table.loc[chosen]
    frame = table.loc[:, list(TABLE_INPUT)].copy()
    for column in ("hr", "hr_lower", "hr_upper"):
        numeric = pd.to_numeric(frame[column], errors="coerce")
        bad = ~(numeric > 0) | ~np.isfinite(numeric)
        if bad.any():
            raise InputError(
                f"{name}: column {column!r} must hold positive finite ratios; not so at "
                f"{describe_rows(np.flatnonzero(bad.to_numpy()))}"
            )
        frame[column] = numeric.astype(float)
    frame["trial"] = frame["trial"].astype(str)
    frame["level"] = frame["level"].astype(str)
    return frame.assign(_z=Z_95), "hr", name


def _check_levels(frame: pd.DataFrame, name: str, effect: str) -> None:
    for column in ("hr", "hr_lower", "hr_upper"):
        bad = ~(frame[column] > 0) | ~np.isfinite(frame[column])
        if bad.any():
            trial, level = frame.loc[bad, ["trial", "level"]].iloc[0]
            raise InputError(
                f"{name}: trial {trial!r}, level {level!r} has no {effect} with a confidence "
                f"interval ({column} = {frame.loc[bad, column].iloc[0]!r})"
            )
    ordered = (frame["hr_lower"] <= frame["hr"]) & (frame["hr"] <= frame["hr_upper"])
    wide = frame["hr_upper"] > frame["hr_lower"]
    if not (ordered & wide).all():
        trial, level = frame.loc[~(ordered & wide), ["trial", "level"]].iloc[0]
        raise InputError(
            f"{name}: trial {trial!r}, level {level!r} needs {effect}_lower < {effect} "
            f"< {effect}_upper"
        )


def _per_trial(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, tuple[str, str]]:
    """One row per trial: both levels side by side, in the first trial's level order."""
    rows, reference = [], None
    for trial, group in frame.groupby("trial", sort=False):
        if len(group) != 2:
            raise InputError(
                f"{name}: trial {trial!r} needs exactly two levels of the subgroup, found "
                f"{len(group)} ({', '.join(group['level'])})"
            )
        levels = tuple(group["level"])
        if reference is None:
            reference = levels
        elif set(levels) == set(reference) and levels != reference:
            group = group.iloc[::-1]  # the same two levels, in the first trial's order
        first, second = group.iloc[0], group.iloc[1]
        rows.append(
            {
                "trial": trial,
                "level_1": first["level"],
                "level_2": second["level"],
                **{f"{c}_1": first[c] for c in ("hr", "hr_lower", "hr_upper")},
                **{f"{c}_2": second[c] for c in ("hr", "hr_lower", "hr_upper")},
                "_z": first["_z"],
            }
        )
    if len(rows) < 2:
        raise InputError(f"{name}: pooling needs at least two trials, found {len(rows)}")
    return pd.DataFrame(rows), reference


def _se_from_ci(lower, upper, z) -> np.ndarray:
    return (np.log(upper) - np.log(lower)) / (2.0 * z)


def _build_table(wide: pd.DataFrame) -> pd.DataFrame:
    se1 = _se_from_ci(wide["hr_lower_1"], wide["hr_upper_1"], wide["_z"])
    se2 = _se_from_ci(wide["hr_lower_2"], wide["hr_upper_2"], wide["_z"])
    log_ratio = np.log(wide["hr_2"]) - np.log(wide["hr_1"])
    se = np.sqrt(se1**2 + se2**2)
    table = pd.DataFrame(
        {
            "trial": wide["trial"],
            "log_ratio": log_ratio,
            "se": se,
            "ratio": np.exp(log_ratio),
            "ratio_lower": np.exp(log_ratio - _Z_POOLED * se),
            "ratio_upper": np.exp(log_ratio + _Z_POOLED * se),
            "p_value": special.erfc(np.abs(log_ratio / se) / math.sqrt(2.0)),
            "level_1": wide["level_1"],
            "level_2": wide["level_2"],
        }
    )
    for i in (1, 2):
        table[f"hr_{i}"] = wide[f"hr_{i}"]
        table[f"hr_{i}_lower"] = wide[f"hr_lower_{i}"]
        table[f"hr_{i}_upper"] = wide[f"hr_upper_{i}"]
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# The result and the front door
# --------------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _frozen(mapping: dict) -> MappingProxyType:
    return MappingProxyType(
        {k: _frozen(v) if isinstance(v, dict) else v for k, v in mapping.items()}
    )


@dataclass(frozen=True, repr=False)
class InteractionMetaResult:
    """Result of :func:`interaction_meta` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per trial: ``trial, log_ratio, se, ratio, ratio_lower,
        ratio_upper, weight_fixed, weight_random`` (ratio = the second level's
        HR over the first's, 95% Wald CI; weights in percent, summing to 100,
        as metafor's ``weights()``), ``p_value`` (the trial's own Wald test of
        the interaction), then ``level_1, level_2`` (the trial's
        levels in the order used) and ``hr_1, hr_1_lower, hr_1_upper, hr_2,
        hr_2_lower, hr_2_upper`` (the per-level effects that went in).
    pooled : Mapping
        ``{"fixed": {...}, "random": {...}}``, each with ``ratio, ratio_lower,
        ratio_upper, p_value`` (and ``log_ratio, se, z, tau2, i2``), plus
        ``tau2, i2`` (random model, I^2 in percent), ``q, df,
        p_heterogeneity`` (Cochran's Q test) and ``method``.
    subgroup : str
    levels : tuple of str
        The two levels (of the first trial) in the order used: ratio = level 2 / level 1.
    method : str
        "REML" or "DL".
    effect : str
        "hr" (survival endpoints) or "or" (binary endpoints).
    """

    table: pd.DataFrame
    pooled: Mapping
    subgroup: str
    levels: tuple[str, str]
    method: str
    effect: str = "hr"

    def summary(self) -> pd.DataFrame:
        """The per-trial table followed by the two pooled rows (a new DataFrame)."""
        pooled = pd.DataFrame(
            [
                {"trial": label, **{k: self.pooled[key][k] for k in _POOLED_KEYS}}
                for key, label in (("fixed", "Fixed effect"), ("random", self.random_label))
            ]
        )
        return pd.concat([self.table[["trial", *_POOLED_KEYS]], pooled], ignore_index=True)

    def __repr__(self) -> str:
        fixed, random = self.pooled["fixed"], self.pooled["random"]
        effect = self.effect.upper()
        return (
            f"InteractionMetaResult({self.subgroup}: {effect} {self.levels[1]} / "
            f"{effect} {self.levels[0]}, {len(self.table)} trials; "
            f"fixed {fixed['ratio']:.3f} ({fixed['ratio_lower']:.3f}-{fixed['ratio_upper']:.3f}), "
            f"random {self.method} {random['ratio']:.3f} "
            f"({random['ratio_lower']:.3f}-{random['ratio_upper']:.3f}); "
            f"I2 {self.pooled['i2']:.1f}%, tau2 {self.pooled['tau2']:.4g})"
        )

    @property
    def random_label(self) -> str:
        return f"Random effects ({self.method})"

    def to_dict(self) -> dict:
        """Plain dicts and lists (for JSON; a missing number is None)."""
        return _plain(
            {
                "subgroup": self.subgroup,
                "levels": list(self.levels),
                "effect": self.effect,
                "method": self.method,
                "pooled": self.pooled,
                "trials": self.table.to_dict(orient="records"),
            }
        )

    def _repr_html_(self) -> str:
        p = self.pooled
        effect = self.effect.upper()
        head = (
            f"<p><b>Interaction meta-analysis</b>: {html.escape(str(self.subgroup))}, "
            f"{effect} {html.escape(self.levels[1])} / {effect} {html.escape(self.levels[0])}; "
            f"{len(self.table)} trials. Heterogeneity Q = {p['q']:.2f} (df {p['df']}), "
            f"p = {p['p_heterogeneity']:.3g}, I&sup2; = {p['i2']:.1f}%, "
            f"&tau;&sup2; = {p['tau2']:.4g}.</p>"
        )
        return head + self.summary().to_html(index=False, float_format=lambda v: f"{v:.4g}")

    def plot(self, **kwargs):
        """Per-trial level effects beside the interaction ratios (see
        :func:`survtdm1.plots.meta.interaction_meta_plot`); returns the Figure."""
        from .plots.meta import interaction_meta_plot

        return interaction_meta_plot(self, **kwargs)


_POOLED_KEYS = ("log_ratio", "se", "ratio", "ratio_lower", "ratio_upper", "p_value")


def interaction_meta(trials, subgroup: str, *, method: str = "REML") -> InteractionMetaResult:
    """Pool within-trial treatment-by-subgroup interactions across trials.

    Per trial, the log ratio of the second level's effect to the first's, with
    SE = sqrt(se1^2 + se2^2) and each se read from its CI as (log upper - log
    lower) / (2 z), z = 1.959964 for 95% CIs (or the quantile of the result's
    ``conf_level``). The log ratios are pooled by inverse variance, fixed and
    random effects, as R metafor
    ``rma(yi, sei = se, method = "FE")`` and ``rma(yi, sei = se, method = method)``.

    Parameters
    ----------
    trials : Mapping of str to SubgroupResult, or DataFrame
        Either each trial's :func:`~survtdm1.subgroup_analysis` result holding
        the two-level subgroup ``subgroup`` (binary endpoints give odds-ratio
        interactions; survival and binary results cannot be mixed), or a
        table of published subgroup HRs with columns ``trial, level, hr,
        hr_lower, hr_upper`` (two rows per trial, 95% CIs; an optional
        ``subgroup`` column selects the rows of ``subgroup``). Levels are taken
        in the order of the rows; a trial with the same two level labels as the
        first trial is put in the first trial's order.
    subgroup : str
        The subgroup column (as in the results' ``subgroup`` column).
    method : {"REML", "DL"}
        Estimator of the between-trial variance tau^2 for the random model.

    Returns
    -------
    InteractionMetaResult

    Raises
    ------
    InputError
        A missing subgroup, not exactly two levels in a trial, a level without
        an estimate or CI, fewer than two trials, missing table columns.
    PlanError
        An unknown ``method``.

    Examples
    --------
    >>> import pandas as pd
    >>> published = pd.DataFrame({
    ...     "trial": ["A", "A", "B", "B"], "level": ["wt", "mut"] * 2,
    ...     "hr": [0.6, 0.8, 0.7, 0.75], "hr_lower": [0.45, 0.5, 0.55, 0.5],
    ...     "hr_upper": [0.8, 1.28, 0.89, 1.12]})
    >>> result = interaction_meta(published, "pik3ca")
    >>> round(result.pooled["fixed"]["ratio"], 3)
    1.175
    """
    method = _checks.choice("method", method, METHODS, where="interaction_meta")
    if isinstance(trials, pd.DataFrame):
        frame, effect, name = _from_table(trials, subgroup)
    elif isinstance(trials, Mapping):
        frame, effect, name = _from_results(trials, subgroup)
    else:
        raise InputError(
            "interaction_meta: trials must be a mapping of trial name to SubgroupResult "
            f"or a DataFrame, not {type(trials).__name__}"
        )
    if frame.empty:
        raise InputError(f"{name}: no trials to pool")
    _check_levels(frame, name, effect)
    wide, levels = _per_trial(frame, name)
    table = _build_table(wide)
    pooled, weight_fixed, weight_random = pool(table["log_ratio"], table["se"], method=method)
    table.insert(6, "weight_fixed", weight_fixed)
    table.insert(7, "weight_random", weight_random)
    return InteractionMetaResult(
        table=table[list(TABLE_COLUMNS)],
        pooled=_frozen(pooled),
        subgroup=str(subgroup),
        levels=(str(levels[0]), str(levels[1])),
        method=method,
        effect=effect,
    )


# --------------------------------------------------------------------------------------
# Files: a table of published HRs, or the outputs of `survtdm1 analyze`
# --------------------------------------------------------------------------------------


def _csv(path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return read_written_csv(path, skipinitialspace=True)


def read_published_table(path) -> pd.DataFrame:
    """A CSV of published per-level effects (``trial, level, hr, hr_lower, hr_upper``
    and optionally ``subgroup``), trial and level read as text."""
    return _csv(path).astype({"trial": str, "level": str}, errors="ignore")


@dataclass(frozen=True)
class AnalysisOutputs:
    """The subgroup table of one ``survtdm1 analyze`` run, as :func:`interaction_meta` reads it.

    ``conf_level`` is 0.95, the level ``analyze`` writes its CIs at.
    """

    table: pd.DataFrame
    endpoint: str
    conf_level: float = 0.95


def read_analysis_outputs(paths: Mapping) -> dict[str, AnalysisOutputs]:
    """Trial name -> its ``analyze`` output folder (or the ``subgroups.csv`` in it)."""
    trials = {}
    for name, path in paths.items():
        path = Path(path)
        if path.is_dir():
            path = path / "subgroups.csv"
        table = _csv(path).astype({"subgroup": str, "level": str}, errors="ignore")
        endpoint = "binary" if "or" in table.columns and "hr" not in table.columns else "survival"
        trials[str(name)] = AnalysisOutputs(table=table, endpoint=endpoint)
    return trials
