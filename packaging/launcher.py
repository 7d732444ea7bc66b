"""Entry point of the packaged app: one program, two names (`photofinder-gui`, `photofinder`)."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

GUI_NAME = "photofinder-gui"


def main() -> int:
    """The GUI when started as photofinder-gui, else the command line."""
    # The duplicate checks' worker processes start this program again: let them run as workers.
    multiprocessing.freeze_support()
    if Path(sys.executable).stem == GUI_NAME:
        from photofinder.gui.app import main as gui_main

        return gui_main()
    from photofinder.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
