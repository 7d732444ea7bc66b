"""`python -m photofinder.gui` starts the desktop app."""

from photofinder.gui.app import main

raise SystemExit(main())
