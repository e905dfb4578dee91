"""``python -m survtdm1``."""

from .cli import run

run()
