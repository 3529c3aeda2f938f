"""``python -m bench.e2e [--scale F] [--keep] [--concurrency N] ...``: the same as
``python -m bench e2e ...``."""

import sys

from bench.__main__ import main

sys.exit(main(["e2e", *sys.argv[1:]]))
