"""Analysis plans: the TOML file (or dict) that drives ``survtdm1 analyze``.

A plan has a ``[cohort]`` table (where the data are and what the columns
mean), an optional ``[analysis]`` table (the keyword arguments of
:func:`survtdm1.subgroup_analysis`) and any number of ``[[subgroup]]`` tables.
Unknown keys are errors, so that a typo never silently changes an analysis.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .exceptions import PlanError
from .levels import SubgroupSpec

COHORT_KEYS = {
    "path",
    "time",
    "event",
    "response",
    "time_unit",
    "arm",
    "treatment",
    "control",
    "id",
    "endpoint_name",
    # sponsor data (CDISC ADaM)
    "censor",
    "paramcd",
    "adsl",
    "population",
    "response_values",
    "responders",
}
ANALYSIS_KEYS = {
    "ties",
    "strata",
    "conf_type",
    "conf_level",
    "landmark",
    "rmst_tau",
    "risk_times",
    "multiplicity",
    "firth",
    "level_strata",
    "adjust",
    "cluster",
    "p_method",
    "convention",
    "time_unit",
}
STRING_KEYS = (
    "path",
    "arm",
    "time",
    "event",
    "response",
    "time_unit",
    "id",
    "endpoint_name",
    "censor",
    "adsl",
    "population",
)
TOP_KEYS = {"cohort", "analysis", "subgroup", "title", "privacy"}
PRIVACY_KEYS = {"min_count"}


@dataclass(frozen=True)
class Plan:
    """A checked analysis plan.

    Attributes
    ----------
    cohort : dict
        ``[cohort]`` keys; ``path`` resolved against the plan's folder.
    analysis : dict
        ``[analysis]`` keys.
    subgroups : tuple of SubgroupSpec
    title : str
    source : str
        The plan file's path, or "<dict>".
    text : str
        The plan as written (TOML), for provenance.
    min_count : int or None
        ``[privacy] min_count``: counts below it are shown as "<k" in every
        output file, figure and the report.
    """

    cohort: dict
    analysis: dict
    subgroups: tuple[SubgroupSpec, ...]
    title: str = "Subgroup analysis"
    source: str = "<dict>"
    text: str = ""
    min_count: int | None = None


def read_plan(plan) -> Plan:
    """Read and check a plan from a TOML path or a dict.

    Examples
    --------
    >>> plan = read_plan({"cohort": {"path": "d.csv", "time": "t", "event": "e",
    ...                   "arm": "arm", "treatment": "A", "control": "B"}})
    >>> plan.analysis
    {}
    """
    if isinstance(plan, bytes | bytearray) or not isinstance(plan, str | os.PathLike | dict):
        raise PlanError(f"a plan is the path of a TOML file or a dict, not {type(plan).__name__}")
    if isinstance(plan, dict):
        return _check(plan, base=Path.cwd(), source="<dict>", text="")
    path = Path(plan)
    if path.is_dir():
        raise PlanError(f"{path}: is a folder, not a plan file")
    if not path.is_file():
        raise PlanError(f"{path}: plan file not found")
    try:
        text = path.read_bytes().decode("utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as err:
        raise PlanError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise PlanError(f"{path}: malformed TOML: {err}") from None
    return _check(raw, base=path.resolve().parent, source=str(path), text=text)


def _check(raw: dict, base: Path, source: str, text: str) -> Plan:
    _check_no_nul(raw, source)
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise PlanError(
            f"{source}: unknown plan key(s) {sorted(map(str, unknown))} "
            f"(allowed: {sorted(TOP_KEYS)})"
        )
    cohort = raw.get("cohort")
    if not isinstance(cohort, dict):
        raise PlanError(f"{source}: the plan needs a [cohort] table")
    _known(cohort, COHORT_KEYS, "[cohort]", source)
    for key in ("path", "arm", "treatment", "control"):
        if key not in cohort:
            raise PlanError(f"{source}: [cohort] needs {key!r}")
    for key in STRING_KEYS:
        if key in cohort and not isinstance(cohort[key], str):
            raise PlanError(f"{source}: [cohort] {key} must be a string, not {cohort[key]!r}")
    for key in ("treatment", "control"):
        value = cohort[key]
        if key == "treatment" and isinstance(value, list):
            _check_treatment_list(value, source)
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PlanError(f"{source}: [cohort] {key} must be a string or a number")
    if "paramcd" in cohort and (
        isinstance(cohort["paramcd"], bool) or not isinstance(cohort["paramcd"], str | int)
    ):
        raise PlanError(f"{source}: [cohort] paramcd must be a string, not {cohort['paramcd']!r}")
    _check_endpoint_keys(cohort, source)
    cohort = dict(cohort)
    for key in ("path", "adsl"):
        if key in cohort:
            data_path = Path(cohort[key])
            cohort[key] = str(data_path if data_path.is_absolute() else base / data_path)

    analysis = raw.get("analysis", {})
    if not isinstance(analysis, dict):
        raise PlanError(f"{source}: [analysis] must be a table")
    _known(analysis, ANALYSIS_KEYS, "[analysis]", source)
    strata = analysis.get("strata")
    if strata is not None and (
        not isinstance(strata, list) or not all(isinstance(s, str) for s in strata) or not strata
    ):
        raise PlanError(f"{source}: [analysis] strata must be a list of column names")
    adjust = analysis.get("adjust")
    if adjust is not None and (
        not isinstance(adjust, list) or not all(isinstance(a, str) for a in adjust) or not adjust
    ):
        raise PlanError(f"{source}: [analysis] adjust must be a list of column names")
    cluster = analysis.get("cluster")
    if cluster is not None and (not isinstance(cluster, str) or not cluster):
        raise PlanError(f"{source}: [analysis] cluster must be a column name, not {cluster!r}")

    subgroups = raw.get("subgroup", [])
    if not isinstance(subgroups, list):
        raise PlanError(f"{source}: subgroups are written as [[subgroup]] tables")
    specs = tuple(SubgroupSpec.from_dict(s) for s in subgroups)
    columns = [s.column for s in specs]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise PlanError(f"{source}: subgroup column(s) {repeated} listed twice")
    identifier = cohort.get("id")
    if identifier is not None and identifier in columns + list(strata or []):
        raise PlanError(
            f"{source}: the id column {identifier!r} cannot be a subgroup or stratum "
            "(its levels would print patient identifiers)"
        )
    title = raw.get("title", "Subgroup analysis")
    if not isinstance(title, str):
        raise PlanError(f"{source}: title must be a string")
    privacy = raw.get("privacy", {})
    if not isinstance(privacy, dict):
        raise PlanError(f"{source}: [privacy] must be a table")
    _known(privacy, PRIVACY_KEYS, "[privacy]", source)
    min_count = privacy.get("min_count")
    if min_count is not None and (
        isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1
    ):
        raise PlanError(f"{source}: [privacy] min_count must be a positive integer")
    return Plan(cohort, dict(analysis), specs, title, source, text, min_count)


def _check_treatment_list(value: list, source: str) -> None:
    """A list of treatment arms (one comparison with the control each): non-empty, no repeats."""
    if not value:
        raise PlanError(f"{source}: [cohort] treatment is an empty list; name at least one arm")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise PlanError(
                f"{source}: [cohort] treatment must be a list of arm values (strings or "
                f"numbers), not {item!r}"
            )
    repeated = [item for k, item in enumerate(value) if item in value[:k]]
    if repeated:
        raise PlanError(f"{source}: [cohort] treatment names arm {repeated[0]!r} twice")


def _check_endpoint_keys(cohort: dict, source: str) -> None:
    """time with event or censor (survival), or response (binary), and their options."""
    data = cohort.get("path")
    if "response" in cohort:
        if any(key in cohort for key in ("time", "event", "censor")):
            raise PlanError(
                f"{source}: [cohort] gives response and time/event/censor; choose one endpoint"
            )
        _check_response_keys(cohort, source)
        return
    for key in ("response_values", "responders"):
        if key in cohort:
            raise PlanError(f"{source}: [cohort] {key} needs response (a binary endpoint)")
    if "event" in cohort and "censor" in cohort:
        raise PlanError(
            f"{source}: [cohort] gives both event = {cohort['event']!r} and censor = "
            f"{cohort['censor']!r} for {data}; give one (event: 1 = event; censor: 0 = event)"
        )
    if "time" not in cohort or not ("event" in cohort or "censor" in cohort):
        raise PlanError(
            f"{source}: [cohort] needs time and event (or censor, e.g. CNSR), or response"
        )


def _check_response_keys(cohort: dict, source: str) -> None:
    values, responders = cohort.get("response_values"), cohort.get("responders")
    if values is not None and responders is not None:
        raise PlanError(f"{source}: [cohort] give response_values or responders, not both")
    if values is not None and (
        not isinstance(values, dict)
        or not values
        or any(isinstance(v, bool) or v not in (0, 1) for v in values.values())
    ):
        raise PlanError(
            f"{source}: [cohort] response_values must map each value to 1 (response) or 0, "
            'e.g. {"CR" = 1, "PR" = 1, "SD" = 0, "PD" = 0}'
        )
    if responders is not None and (
        not isinstance(responders, list)
        or not responders
        or any(isinstance(v, bool) or not isinstance(v, str | int | float) for v in responders)
    ):
        raise PlanError(
            f'{source}: [cohort] responders must be a list of values, e.g. ["CR", "PR"]'
        )


def _known(table: dict, allowed: set, name: str, source: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise PlanError(
            f"{source}: unknown key(s) {sorted(map(str, unknown))} in {name} "
            f"(allowed: {sorted(allowed)})"
        )


def _check_no_nul(value, source: str, where: str = "the plan") -> None:
    """A NUL character in any key or string of a plan is an error (readers of the CSV
    outputs would cut the text there)."""
    if isinstance(value, str) and "\x00" in value:
        raise PlanError(f"{source}: {where} holds a NUL character (\\u0000)")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_nul(key, source, where)
            _check_no_nul(item, source, f"{key!r}" if isinstance(key, str) else where)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_no_nul(item, source, where)
