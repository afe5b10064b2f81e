"""The optional C part of bus.identity (everything else is in pyproject.toml).

``bus/identity/_native.c`` builds signed form 2's canonical form and its digest in one pass and climbs a
batch record's audit path, with OpenSSL's SHA-256 (libcrypto: Debian's libssl-dev). ``optional=True``:
where no C compiler, Python headers or OpenSSL headers are found the build goes on without it, and
``bus/identity/_signing.py`` and ``_batch.py`` use their Python loops (the same bytes, tested against
each other).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bus.identity._native", ["bus/identity/_native.c"], libraries=["crypto"], optional=True)])
