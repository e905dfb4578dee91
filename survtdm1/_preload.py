"""Imports made cheaper: modules imported by a background thread while the calling
thread runs C code that releases the GIL (pandas' CSV tokenizer), and the cyclic
garbage collector paused while many modules are imported.

>>> with importing("json"), gc_paused():
...     pass
"""

from __future__ import annotations

import contextlib
import gc
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


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off during the ``with`` block (then as before).

    Importing pandas, matplotlib and rtflite creates some 150,000 objects, none of
    them garbage; the collector, run every 700 new objects, spends about a tenth of
    the import time looking through them. Objects made in the block are collected
    as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
