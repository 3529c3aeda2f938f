"""``python -m bench [NAME ...] [--scale F] [--keep] ...`` from the repo root; NAME is one of
snapshots, availability, hot_sku, intake, returns, growth, visits, dunning, ledger_export,
supplier_upload, e2e
(default: all but e2e, which needs a Redis database of its own and which ``make bench`` runs on
its own: ``python -m bench.e2e``)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench.harness.config import add_arguments, config_from, terminate_on_sigterm
from bench.harness.database import bootstrap_django

BENCHMARKS = {
    "snapshots": "bench.snapshots",
    "availability": "bench.availability",
    "hot_sku": "bench.hot_sku",
    "intake": "bench.intake",
    "returns": "bench.returns",
    "growth": "bench.growth",
    "visits": "bench.visits",
    "dunning": "bench.dunning",
    "ledger_export": "bench.ledger_export",
    "supplier_upload": "bench.supplier_upload",
    "e2e": "bench.e2e",
}
DEFAULT = [name for name in BENCHMARKS if name != "e2e"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmarks against a database of their own; print rates, latencies and "
                    "ratios to a baseline measured in the same run. Nothing is asserted.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)} "
                             "(default: all but e2e)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    names = list(dict.fromkeys(args.names)) or DEFAULT
    config = config_from(args, names)
    terminate_on_sigterm()
    # Django is set up once, against the first benchmark's database; each benchmark then creates
    # its own database and points Django at it.
    bootstrap_django(config, config.db_name(names[0]))
    print(f"bench: {', '.join(names)} at scale {args.scale} "
          f"(server {config.database_url('<db>')}, databases {config.db_prefix}_<name>)")
    done = {}
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        started = time.perf_counter()
        results = done[name] = module.run(config)
        path = results.write()
        print(f"  {name} took {time.perf_counter() - started:.1f} s; results in "
              f"{path.relative_to(path.parent.parent.parent)}")
    if "intake" in done and "returns" in done:  # the issue wants them next to each other
        from bench.returns import side_by_side

        side_by_side(done["intake"], done["returns"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
