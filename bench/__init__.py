"""Benchmarks that print throughput and latency next to a baseline measured in the same run.

Run from the repository root: ``python -m bench [snapshots] [availability] [--scale 0.1]``.
Every benchmark works in a database of its own (``oms_bench_<name>``), created and migrated at
the start and dropped at the end, so the development and test databases are never touched.
See bench/README.md.
"""
