"""`python -m tailor.cli`: the same as the `tailor` console script."""

from tailor.cli.app import main

main()
