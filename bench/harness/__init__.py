"""The one harness every benchmark runs on. Nothing here imports Django at module level: the
environment (DATABASE_URL, SECRET_KEY, ...) must be in place before ``django.setup()``, which
:func:`bench.harness.database.bootstrap_django` calls.

- ``config``: the command line and :class:`BenchConfig` (scale, seed, servers, environment);
- ``database``: a database of its own per benchmark, Django pointed at it, COPY and VACUUM;
- ``processes``: gunicorn on a free port, a plain HTTP client, child processes always stopped;
- ``worker``: a real Celery worker and the Redis queues it works from;
- ``pgbench``: the raw baselines, and where the database connections spend their time;
- ``cpu``: CPU seconds per process group over a phase;
- ``orders``: the order documents the HTTP benchmarks send;
- ``report``: percentiles, the printed table and the JSON results file.
"""
