"""``python -m ops.cli``: the ``enlace`` command without the console script."""

from ops.cli import main

main()
