"""The optional C part of bus.identity (everything else is in pyproject.toml).

``bus/_native.c`` does a few per-record loops in one pass each: signed form 2's canonical form and its
digest, a batch record's climb along its audit path (with OpenSSL's SHA-256: libcrypto, Debian's
libssl-dev), the message log's entry body. ``optional=True``: where no C compiler, Python headers or
OpenSSL headers are found the build goes on without it, and ``bus._built.native`` is None: each caller
uses its Python loop (the same bytes, tested against each other).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bus._native", ["bus/_native.c"], libraries=["crypto"], optional=True)])
