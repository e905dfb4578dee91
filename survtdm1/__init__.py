"""survtdm1: biomarker-stratified survival analysis of clinical trial cohorts.

>>> import survtdm1 as st
>>> cohort = st.load_cohort("trial.csv", arm="arm", treatment="T-DM1",
...                         control="Trastuzumab", time="idfs_months",
...                         event="idfs_event")  # doctest: +SKIP
>>> result = st.subgroup_analysis(cohort, [{"column": "pik3ca"}])  # doctest: +SKIP
"""

__version__ = "0.1.0"

from . import datasets
from .analysis import AnalysisResult, analyze
from .cohort import Cohort, load_cohort
from .continuous import EffectCurveResult, SteppResult, effect_curve, stepp
from .exceptions import (
    ConvergenceWarning,
    InputError,
    PlanError,
    SeparationWarning,
    SmallSampleWarning,
    SurvTDM1Error,
    SurvTDM1Warning,
)
from .meta import InteractionMetaResult, interaction_meta
from .power import PowerResult, power_interaction
from .reconstruct import reconstruct_ipd
from .simulate import simulate_trial
from .stratify import SubgroupSpec
from .subgroups import SubgroupResult, subgroup_analysis

__all__ = [
    "AnalysisResult",
    "Cohort",
    "ConvergenceWarning",
    "EffectCurveResult",
    "InputError",
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
