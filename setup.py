"""The compiled Cox kernel (survtdm1/_cellfit.c); everything else is in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds and
survtdm1 uses its numpy evaluation of the same fits (the same numbers).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("survtdm1._cellfit", ["survtdm1/_cellfit.c"], optional=True)])
