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
from collections.abc import Iterable, Iterator


def import_each(modules: Iterable[str]) -> None:
    """Import ``modules`` ahead of their use. A module that cannot be imported is
    skipped: the import where it is used raises the error, with its own message."""
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


@contextlib.contextmanager
def importing(*modules: str) -> Iterator[None]:
    """:func:`import_each` of ``modules`` in a thread during the ``with`` block, which
    waits for them when it ends."""
    thread = threading.Thread(
        target=import_each, args=(modules,), name="survtdm1-import", daemon=True
    )
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
