"""The package's import structure: floors, no cycles, no private names across modules.

The floors are those of the architecture guide: each module imports only from
its own floor or below. The one documented exception is a result's lazy
``plot*()`` method importing from ``survtdm1.plots`` (statsmodels' pattern).
A new module must be added to FLOORS: the test fails for a module it does not
know, so that nobody adds a module without deciding where it lives.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "survtdm1"

# module (dotted, without "survtdm1.") or package prefix ending in "." -> floor
FLOORS = {
    # 0: version, errors, option checks, display text, forked work, deferred imports
    "_version": 0,
    "exceptions": 0,
    "_checks": 0,
    "_text": 0,
    "_forked": 0,
    "_preload": 0,
    "_special": 0,
    # 1: data
    "cohort": 1,
    "levels": 1,
    "plan": 1,
    "datasets": 1,
    "readers": 1,
    "csvread": 1,
    # 2: estimators on arrays
    "km": 2,
    "cox": 2,
    "cox_batch": 2,
    "cox_cells": 2,
    "_cellfit": 2,  # compiled (survtdm1/_cellfit.c), imported by cox_cells
    "newton": 2,
    "firth": 2,
    "logistic": 2,
    "splines": 2,
    "multiplicity": 2,
    "cutpoint": 2,
    "reconstruct": 2,
    "meta": 2,
    # 3: analyses
    "subgroups.": 3,
    "stepp": 3,
    "biomarker": 3,
    "cutpoints": 3,
    "effect_curve": 3,
    "power": 3,
    "simulate.": 3,
    # 4: outputs
    "plots.": 4,
    "report": 4,
    "tables": 4,
    "privacy": 4,
    "figures": 4,
    "outputs": 4,
    # 5: runner
    "analysis": 5,
    "cli": 5,
    "__main__": 5,
    "__init__": 5,
}


def floor_of(module: str) -> int:
    """The floor of a dotted module name relative to the package."""
    if module in FLOORS:
        return FLOORS[module]
    for prefix, floor in FLOORS.items():
        if prefix.endswith(".") and (module + ".").startswith(prefix):
            return floor
    raise KeyError(module)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
        return ".".join(parts) + ".__init__"
    return ".".join(parts)


def _package_of(module: str) -> list[str]:
    parts = module.split(".")
    return parts[:-1]


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """Dotted names (relative to the package) that ``node`` imports, or [] if outside."""
    if node.level == 0:
        name = node.module or ""
        if name != "survtdm1" and not name.startswith("survtdm1."):
            return []
        base = name.split(".")[1:]
    else:
        package = _package_of(module)
        base = package[: len(package) - (node.level - 1)] + (
            node.module.split(".") if node.module else []
        )
    if node.module is None or (node.level == 0 and node.module == "survtdm1"):
        # "from . import km": each name is a module
        return [".".join([*base, alias.name]) for alias in node.names]
    return [".".join(base)]


def _is_module_import(node: ast.ImportFrom) -> bool:
    return node.module is None or (node.level == 0 and node.module == "survtdm1")


def _known(name: str, modules: set[str]) -> str:
    """The module ``name`` refers to (a package refers to its __init__)."""
    if name in modules:
        return name
    if f"{name}.__init__" in modules:
        return f"{name}.__init__"
    head = name.rsplit(".", 1)[0]
    return _known(head, modules) if "." in name else name


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str):
        self.module = module
        self.function: list[str] = []
        self.found: list[tuple[str, list[str], bool, int]] = []

    def visit_FunctionDef(self, node):
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.startswith("survtdm1."):
                lazy_plot = any(f.startswith("plot") for f in self.function)
                self.found.append((alias.name.split(".", 1)[1], [], lazy_plot, node.lineno))

    def visit_ImportFrom(self, node):
        lazy_plot = any(f.startswith("plot") for f in self.function)
        names = [] if _is_module_import(node) else [alias.name for alias in node.names]
        for target in _resolve(self.module, node):
            self.found.append((target, names, lazy_plot, node.lineno))


def _imports():
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        visitor = _Imports(module)
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        for target, names, lazy_plot, line in visitor.found:
            edges.append((module, _known(target, modules), names, lazy_plot, line))
    return modules, edges


MODULES, EDGES = _imports()


def _base(module: str) -> str:
    return module.removesuffix(".__init__")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_has_a_floor(module):
    try:
        floor_of(_base(module))
    except KeyError:
        pytest.fail(f"survtdm1/{module}: not in the floors table of tests/test_architecture.py")


def test_no_module_imports_from_a_higher_floor():
    upward = []
    for module, target, _names, lazy_plot, line in EDGES:
        if module == "__init__":
            continue  # the package root gathers the public API
        if lazy_plot and target.startswith("plots"):
            continue  # a result's lazy plot method: the documented exception
        source_floor, target_floor = floor_of(_base(module)), floor_of(_base(target))
        if target_floor > source_floor:
            upward.append(
                f"{module}:{line} (floor {source_floor}) imports {target} (floor {target_floor})"
            )
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for module, target, _names, lazy_plot, _line in EDGES:
        if lazy_plot and target.startswith("plots"):
            continue
        if module != target:
            graph.setdefault(module, set()).add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_no_private_name_imported_across_modules_outside_plots():
    crossings = []
    for module, target, names, _lazy, line in EDGES:
        if module.startswith("plots") and target.startswith("plots"):
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private and target != module:
            crossings.append(f"{module}:{line} imports {private} from {target}")
    assert not crossings, "\n".join(crossings)


def test_floor_of_knows_packages():
    assert floor_of("subgroups.survival") == 3
    assert floor_of("plots.forest") == 4
    with pytest.raises(KeyError):
        floor_of("no_such_module")


def test_the_checker_sees_an_upward_import(tmp_path):
    """A fake estimator importing the runner is found (the test can fail)."""
    tree = ast.parse("from .analysis import analyze\n")
    visitor = _Imports("km")
    visitor.visit(tree)
    (target, _names, _lazy, _line) = visitor.found[0]
    assert target == "analysis" and floor_of(target) > floor_of("km")


MAX_FUNCTION_LINES = 120


def test_no_function_longer_than_120_lines():
    """Long functions hide their steps; docstrings count, as a reader reads them."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {length}")
    assert not long, "\n".join(long)
