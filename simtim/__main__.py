"""``python -m simtim`` is the ``simtim`` command."""

from simtim.cli import main

raise SystemExit(main())
