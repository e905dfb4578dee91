"""Work done in a forked child process while this process goes on (Linux only).

:func:`alongside` gives ``(here(), there())`` as if the two ran one after the
other, with ``there`` run in a child forked from this process: the child sees
everything this process holds (a loaded cohort) without copying it, and sends
back only its result, pickled.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

from .exceptions import OutputError

Here = TypeVar("Here")
There = TypeVar("There")


def can_fork() -> bool:
    """Whether :func:`alongside` may fork: on Linux only, as forking is unsafe with
    some of macOS's system libraries. (A child must not use polars once its
    parent has: polars' thread pool does not survive a fork.)"""
    return sys.platform.startswith("linux")


def alongside(
    here: Callable[[], Here],
    there: Callable[[], There],
    *,
    parallel: bool,
    what: str,
    error: type[Exception] = OutputError,
    yielding: bool = False,
) -> tuple[Here, There]:
    """``(here(), there())``, with ``there`` run in a forked child while ``here`` runs
    in this process when ``parallel`` (and :func:`can_fork`).

    A ``yielding`` child runs at a lower priority (``os.nice``): work that can wait
    for a free core, so that this process and its others go first.

    As if run one after the other: an error of ``here`` is raised first, then
    one of ``there``; the warnings of ``there`` are raised here, after those of
    ``here``. The child is waited for in any case (it may be writing files), and
    its value must pickle. A child that dies gives an ``error`` naming the work
    (``what``): "drawing the figures failed: the process ended with code -9".
    """
    if not (parallel and can_fork()):
        first = here()
        return first, there()
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # not a daemon: it may fork in turn (the figure process forks for the forest SVG)
    work = _yielding(there) if yielding else there
    child = context.Process(target=run_child, args=(work, send, what, error))
    child.start()
    send.close()
    try:
        first = here()
    finally:
        answer = receive_answer(receive, child)
        receive.close()
    return first, unpack_answer(answer, child.exitcode, what, error)


#: How much a yielding child lowers its priority (nice 10: about a tenth of a core
#: that it shares with a process of the default priority)
YIELDING_NICE = 10


def _yielding(function: Callable[[], There]) -> Callable[[], There]:
    def run() -> There:
        with contextlib.suppress(OSError):  # a system that refuses it: the usual priority
            os.nice(YIELDING_NICE)
        return function()

    return run


def receive_answer(receive, child) -> tuple:
    """What :func:`run_child` sent through ``receive``, once ``child`` has ended:
    ``(status, value, warnings)``, status "died" if it ended without answering."""
    try:
        answer = receive.recv()
    except EOFError:  # the child died before answering
        answer = ("died", None, [])
    child.join()
    return answer


def unpack_answer(answer: tuple, exitcode, what: str, error: type[Exception] = OutputError):
    """The value of a :func:`receive_answer`, its warnings raised here; its error raised,
    or ``error`` if the child (``exitcode``) died."""
    status, payload, caught = answer
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno)
    if status == "ok":
        return payload
    if status == "error":
        raise payload
    raise error(f"{what} failed: the process ended with code {exitcode}")


def run_child(function: Callable, send, what: str, error: type[Exception] = OutputError) -> None:
    """In a child process: send ``("ok", value, warnings)`` of ``function()``, or
    ``("error", exception, warnings)``, through the pipe end ``send``.

    The warnings are recorded (under the filters inherited from the parent: an
    ignored one is not sent, an "error" one is the exception) as
    ``(message, category, filename, lineno)``, for the parent to raise.
    """
    with warnings.catch_warnings(record=True) as records:
        try:
            result = ["ok", function()]
        except BaseException as err:  # noqa: BLE001  (any failure is reported to the parent)
            result = ["error", err]
    caught = [(w.message, w.category, w.filename, w.lineno) for w in records]
    try:
        send.send((*result, caught))
    except Exception as err:  # a value, exception or warning that cannot be pickled
        failure = error(f"{what} failed: {result[1]!r} ({err})")
        send.send(("error", failure, []))
    send.close()
