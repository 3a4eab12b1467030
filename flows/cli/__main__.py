"""``python -m flows.cli``: the ``voc`` command."""

from flows.cli import main

main()
