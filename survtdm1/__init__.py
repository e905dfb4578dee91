"""survtdm1: biomarker-stratified survival analysis of clinical trial cohorts.

>>> import survtdm1 as st
>>> cohort = st.load_cohort("trial.csv", arm="arm", treatment="T-DM1",
...                         control="Trastuzumab", time="idfs_months",
...                         event="idfs_event")  # doctest: +SKIP
>>> result = st.subgroup_analysis(cohort, [{"column": "pik3ca"}])  # doctest: +SKIP
"""

import sys
import types

from ._version import __version__

# Public name -> the module that defines it. ``import survtdm1`` loads none of them
# (pandas alone takes about half a second to import); each is imported the first
# time it is used (PEP 562), so a command loads what it needs and no more.
_HOME = {
    "AnalysisResult": "analysis",
    "analyze": "analysis",
    "Cohort": "cohort",
    "load_cohort": "cohort",
    "CutpointResult": "cutpoint",
    "cutpoint": "cutpoints",
    "EffectCurveResult": "effect_curve",
    "effect_curve": "effect_curve",
    "ArmValueWarning": "exceptions",
    "ConvergenceWarning": "exceptions",
    "InputError": "exceptions",
    "OutputError": "exceptions",
    "PlanError": "exceptions",
    "SeparationWarning": "exceptions",
    "SmallSampleWarning": "exceptions",
    "SurvTDM1Error": "exceptions",
    "SurvTDM1Warning": "exceptions",
    "SubgroupSpec": "levels",
    "InteractionMetaResult": "meta",
    "interaction_meta": "meta",
    "PowerResult": "power",
    "power_interaction": "power",
    "reconstruct_ipd": "reconstruct",
    "simulate_trial": "simulate",
    "SteppResult": "stepp",
    "stepp": "stepp",
    "MultiArmResult": "subgroups",
    "SubgroupResult": "subgroups",
    "compare_arms": "subgroups",
    "subgroup_analysis": "subgroups",
}
_MODULES = ("datasets",)  # public submodules reached as attributes


def __getattr__(name: str):
    import importlib

    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module: importing a submodule that shares its name with a public
    function (``stepp``, ``cutpoint``, ``effect_curve``) does not hide the function."""

    def __setattr__(self, name: str, value) -> None:
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "AnalysisResult",
    "ArmValueWarning",
    "Cohort",
    "ConvergenceWarning",
    "CutpointResult",
    "EffectCurveResult",
    "InputError",
    "MultiArmResult",
    "OutputError",
    "InteractionMetaResult",
    "PlanError",
    "PowerResult",
    "SeparationWarning",
    "SmallSampleWarning",
    "SteppResult",
    "SubgroupResult",
    "SubgroupSpec",
    "SurvTDM1Error",
    "SurvTDM1Warning",
    "__version__",
    "analyze",
    "compare_arms",
    "cutpoint",
    "datasets",
    "effect_curve",
    "interaction_meta",
    "load_cohort",
    "power_interaction",
    "reconstruct_ipd",
    "simulate_trial",
    "stepp",
    "subgroup_analysis",
]
