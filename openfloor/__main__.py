"""`python -m openfloor` is the `openfloor` command."""

from openfloor.cli import main

main()
