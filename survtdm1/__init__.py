"""survtdm1: biomarker-stratified survival analysis of clinical trial cohorts.

>>> import survtdm1 as st
>>> cohort = st.load_cohort("trial.csv", arm="arm", treatment="T-DM1",
...                         control="Trastuzumab", time="idfs_months",
...                         event="idfs_event")  # doctest: +SKIP
>>> result = st.subgroup_analysis(cohort, [{"column": "pik3ca"}])  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .analysis import AnalysisResult, analyze
from .cohort import Cohort, load_cohort
from .exceptions import (
    ConvergenceWarning,
    InputError,
    PlanError,
    SeparationWarning,
    SmallSampleWarning,
    SurvTDM1Error,
    SurvTDM1Warning,
)
from .stratify import SubgroupSpec
from .subgroups import SubgroupResult, subgroup_analysis

__all__ = [
    "AnalysisResult",
    "Cohort",
    "ConvergenceWarning",
    "InputError",
    "PlanError",
    "SeparationWarning",
    "SmallSampleWarning",
    "SubgroupResult",
    "SubgroupSpec",
    "SurvTDM1Error",
    "SurvTDM1Warning",
    "__version__",
    "analyze",
    "load_cohort",
    "subgroup_analysis",
]
