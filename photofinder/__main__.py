"""`python -m photofinder` runs the command line."""

from photofinder.cli import main

raise SystemExit(main())
