"""``python -m okx_trio.monitor``: the live monitor (see :func:`okx_trio.monitor.main`)."""

import sys

from ._cli import main

sys.exit(main())
