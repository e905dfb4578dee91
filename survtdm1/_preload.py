"""Modules imported by a background thread while the calling thread runs C code that
releases the GIL (pandas' CSV tokenizer): their import then costs no time on the way.

>>> with importing("json"):
...     pass
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def importing(*modules: str) -> Iterator[None]:
    """Import ``modules`` in a thread during the ``with`` block, which waits for them
    when it ends. A module that cannot be imported is skipped: the caller's own
    import raises the error where the module is used."""

    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:
                continue

    thread = threading.Thread(target=run, name="survtdm1-import", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
