"""Subgroup batteries: the front door (:mod:`.battery`), what both endpoints share
(:mod:`.common`), the survival battery (:mod:`.survival`) and the binary one
(:mod:`.binary`). Survival and binary never import each other. Several treatment
arms against one control: :mod:`.arms`, one two-arm battery per comparison."""

from .arms import MultiArmResult, compare_arms
from .battery import subgroup_analysis
from .common import SubgroupResult

__all__ = ["MultiArmResult", "SubgroupResult", "compare_arms", "subgroup_analysis"]
