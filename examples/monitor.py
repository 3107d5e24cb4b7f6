#!/usr/bin/env python3
"""Live OKX ticker monitor; the program is the package :mod:`okx_trio.monitor`.

Same as ``okx-trio-monitor`` or ``python -m okx_trio.monitor``; try ``--demo`` (offline,
with injected faults) and ``--help``.
"""

import sys

from okx_trio.monitor import main

if __name__ == "__main__":
    sys.exit(main())
