"""The README's Python examples run as written (so the quick start stays true)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

import survtdm1

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.filterwarnings("ignore::survtdm1.SurvTDM1Warning")
def test_examples_run_in_order(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    assert isinstance(namespace["result"], survtdm1.SubgroupResult)
    assert 0 <= namespace["stepp"].p_value <= 1
