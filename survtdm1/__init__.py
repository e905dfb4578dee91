"""survtdm1: biomarker-stratified survival analysis of clinical trial cohorts.

>>> import survtdm1 as st
>>> cohort = st.load_cohort("trial.csv", arm="arm", treatment="T-DM1",
...                         control="Trastuzumab", time="idfs_months",
...                         event="idfs_event")  # doctest: +SKIP
>>> result = st.subgroup_analysis(cohort, [{"column": "pik3ca"}])  # doctest: +SKIP
"""

from . import datasets
from ._version import __version__
from .analysis import AnalysisResult, analyze
from .cohort import Cohort, load_cohort
from .cutpoint import CutpointResult
from .cutpoints import cutpoint
from .effect_curve import EffectCurveResult, effect_curve
from .exceptions import (
    ArmValueWarning,
    ConvergenceWarning,
    InputError,
    OutputError,
    PlanError,
    SeparationWarning,
    SmallSampleWarning,
    SurvTDM1Error,
    SurvTDM1Warning,
)
from .levels import SubgroupSpec
from .meta import InteractionMetaResult, interaction_meta
from .power import PowerResult, power_interaction
from .reconstruct import reconstruct_ipd
from .simulate import simulate_trial
from .stepp import SteppResult, stepp
from .subgroups import MultiArmResult, SubgroupResult, compare_arms, subgroup_analysis

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
