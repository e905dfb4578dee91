"""scipy.special, imported the first time one of its functions is used.

``from . import _special as special`` stands for ``from scipy import special``:
importing scipy.special costs about 0.3 s, which a process that only reads
results (to write tables and figures) does not need to spend.

>>> from survtdm1 import _special as special
>>> float(special.ndtr(0.0))
0.5
"""

from __future__ import annotations


def __getattr__(name: str):
    from scipy import special

    value = getattr(special, name)
    globals()[name] = value  # later uses find it here
    return value
