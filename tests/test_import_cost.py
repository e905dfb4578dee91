"""``import survtdm1`` loads only what every command needs.

``import survtdm1`` itself loads none of its modules (nor numpy or pandas):
each public name is imported when first used. Plotting (matplotlib),
statsmodels, scipy.stats and scipy.optimize, joblib and tqdm are imported by
the functions that use them. Checked in a fresh interpreter through
``sys.modules`` (not by timing, which depends on the machine; the time is in
benchmarks/results.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAZY = (
    "numpy",
    "pandas",
    "matplotlib",
    "statsmodels",
    "scipy.stats",
    "scipy.optimize",
    "scipy.interpolate",
    "joblib",
    "tqdm",
    "lifelines",
)


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_import_survtdm1_leaves_heavy_modules_unloaded():
    modules = _modules_after("import survtdm1")
    assert "survtdm1._version" in modules  # the probe imported the package under test
    loaded = [name for name in LAZY if _loaded(modules, name)]
    assert loaded == [], f"import survtdm1 loads {loaded}"


def test_a_subgroup_analysis_needs_no_plotting_or_optimiser():
    code = (
        "import warnings, survtdm1 as st\n"
        "warnings.simplefilter('ignore')\n"
        "c = st.load_cohort(st.datasets.katherine(), arm='arm', treatment='T-DM1',\n"
        "    control='Trastuzumab', time='idfs_months', event='idfs_event')\n"
        "st.subgroup_analysis(c, [{'column': 'pik3ca'}, {'column': 'age', 'cutpoints': [50]}],\n"
        "    landmark=36, rmst_tau=36)"
    )
    modules = _modules_after(code)
    heavy = ("matplotlib", "statsmodels", "scipy.stats")
    loaded = [name for name in heavy if _loaded(modules, name)]
    assert loaded == [], f"subgroup_analysis loads {loaded}"


def test_every_public_name_is_reached_and_a_submodule_never_hides_a_function():
    code = (
        "import survtdm1 as st, inspect\n"
        "import survtdm1.stepp, survtdm1.cutpoint, survtdm1.effect_curve, survtdm1.analysis\n"
        "bad = [n for n in st.__all__ if inspect.ismodule(getattr(st, n)) and n != 'datasets']\n"
        "assert not bad, bad\n"
        "assert callable(st.stepp) and callable(st.cutpoint) and callable(st.effect_curve)\n"
        "assert set(st.__all__) <= set(dir(st))\n"
        "from survtdm1 import SubgroupResult, subgroup_analysis, datasets\n"
        "assert SubgroupResult.__module__ == 'survtdm1.subgroups.common'"
    )
    modules = _modules_after(code)
    assert "survtdm1.subgroups.common" in modules


def test_an_unknown_name_is_an_attribute_error():
    import survtdm1

    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        survtdm1.no_such_name  # noqa: B018


def test_the_modules_an_output_process_imports_leave_scipy_unloaded():
    # an output process imports these before it unpickles a result and writes its
    # files; the estimators import scipy.special when one of its functions is used
    code = (
        "import importlib, survtdm1.analysis as a\n"
        "for name in a.WRITING_MODULES: importlib.import_module(name)"
    )
    modules = _modules_after(code)
    assert "rtflite" in modules and "survtdm1.subgroups" in modules
    assert not _loaded(modules, "scipy")


def test_scipy_special_is_imported_when_first_used():
    from scipy import special as scipy_special

    from survtdm1 import _special

    assert _special.chdtrc is scipy_special.chdtrc  # the function itself, then kept
    assert "chdtrc" in vars(_special)
    with pytest.raises(AttributeError, match="no_such_function"):
        _special.no_such_function  # noqa: B018


def test_modules_imported_by_a_thread_are_loaded_when_the_block_ends():
    # a module that cannot be imported is left to the caller's own import (its error)
    code = (
        "from survtdm1._preload import importing\n"
        "with importing('fractions', 'no_such_module_here', 'decimal'):\n"
        "    pass"
    )
    assert not {"fractions", "decimal"} & _modules_after("import survtdm1._preload")
    assert {"fractions", "decimal"} <= _modules_after(code)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_in_the_block_and_then_as_before(enabled):
    import gc

    from survtdm1._preload import gc_paused

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled
        with pytest.raises(KeyError), gc_paused():
            raise KeyError("x")  # an error in the block leaves it as before too
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_survival_battery_runs_with_the_collector_paused(monkeypatch):
    import gc

    import pandas as pd

    import survtdm1 as st
    from survtdm1.subgroups import survival

    seen = []
    real = survival.assemble_table

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(survival, "assemble_table", watched)
    frame = pd.DataFrame({"t": [5, 8, 3, 9, 4, 7], "e": [1, 0, 1, 1, 1, 0], "arm": ["A", "B"] * 3})
    cohort = st.load_cohort(frame, arm="arm", treatment="A", control="B", time="t", event="e")
    assert gc.isenabled()
    st.subgroup_analysis(cohort)
    assert seen == [False] and gc.isenabled()
