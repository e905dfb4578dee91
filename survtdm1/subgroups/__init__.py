"""Subgroup batteries: the front door (:mod:`.battery`), what both endpoints share
(:mod:`.common`), the survival battery (:mod:`.survival`) and the binary one
(:mod:`.binary`). Survival and binary never import each other."""

from .battery import subgroup_analysis
from .common import SubgroupResult

__all__ = ["SubgroupResult", "subgroup_analysis"]
