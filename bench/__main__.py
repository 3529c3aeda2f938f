"""``python -m bench [NAME ...] [--scale F] [--keep] ...`` from the repo root; NAME is one of
snapshots, availability, hot_sku, intake, growth (default: all)."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from typing import Any

from bench.harness import BenchConfig, bootstrap_django, config_from

BENCHMARKS = {
    "snapshots": "bench.snapshots",
    "availability": "bench.availability",
    "hot_sku": "bench.hot_sku",
    "intake": "bench.intake",
    "growth": "bench.growth",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmarks against a database of their own; print rates, latencies and "
                    "ratios to a baseline measured in the same run. Nothing is asserted.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full data set and request count, e.g. 0.05 for a "
                             "smoke run (default 1.0)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each benchmark database (oms_bench_<name>) after the run")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed for the data")
    parser.add_argument("--db-prefix", default="oms_bench",
                        help="database name prefix; the name must contain 'bench'")
    parser.add_argument("--senders", type=int, default=None,
                        help="concurrent HTTP senders (default: 2 for snapshots, 4 for intake; "
                             "growth always sends one at a time)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    return parser


def _terminate_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so gunicorn is stopped and the database dropped."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)
    config: BenchConfig = config_from(args)
    _terminate_on_sigterm()
    # Django is set up once, against the first benchmark's database; each benchmark then creates
    # its own database and points Django at it.
    bootstrap_django(config, config.db_name(names[0]))
    print(f"bench: {', '.join(names)} at scale {args.scale} "
          f"(server {config.database_url('<db>')}, databases {config.db_prefix}_<name>)")
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        started = time.perf_counter()
        results = module.run(config)
        path = results.write()
        print(f"  {name} took {time.perf_counter() - started:.1f} s; results in "
              f"{path.relative_to(path.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
