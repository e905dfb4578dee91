"""Every notebook in notebooks/ runs top to bottom without an error.

The notebooks are executed in memory with nbclient (kernel "python3", working
directory notebooks/); the stored copies are not rewritten. A notebook that
raises fails the test; so does one that prints a warning, since the stored
notebooks are meant to be free of warning output.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell


def test_notebooks_exist():
    names = {path.name for path in NOTEBOOKS}
    assert {
        "01_katherine_biomarkers.ipynb",
        "02_emilia_her2_pik3ca.ipynb",
        "03_kristine_pcr.ipynb",
        "04_your_own_cohort.ipynb",
        "05_across_tdm1_trials.ipynb",
    } <= names


def _warning_output(cell) -> list[str]:
    return [
        output["text"]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        and output.get("name") == "stderr"
        and "Warning" in output.get("text", "")
    ]


def execute(path: Path):
    """Run a notebook top to bottom in memory (cwd notebooks/) and return it."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        record_timing=False,  # stored notebooks stay free of timestamps
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_clean(path: Path):
    notebook = execute(path)
    warned = {
        index: text
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for text in _warning_output(cell)
    }
    assert not warned, f"{path.name} prints warnings: {warned}"


if __name__ == "__main__":  # `make notebooks`: store the notebooks with fresh outputs
    for path in NOTEBOOKS:
        nbformat.write(execute(path), path)
        print(f"executed and saved {path.name}")
