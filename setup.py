"""The optional C part of bus.identity (everything else is in pyproject.toml).

``bus/identity/_native.c`` builds signed form 2's canonical form in one pass. ``optional=True``: where no
C compiler or Python headers are found the build goes on without it, and ``bus/identity/_signing.py``
uses its Python loop (the same bytes, tested against each other).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bus.identity._native", ["bus/identity/_native.c"], optional=True)])
