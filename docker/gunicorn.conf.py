"""gunicorn settings for the web container; every value can be overridden from the environment."""

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
max_requests = 10_000
# gunicorn refuses a request line or header over these limits itself, in plain text or HTML.
# The request line is at the most gunicorn allows (8190 bytes); a header may have 16 KiB and a
# request 200 headers, well above what any client of the API sends, while still bounding what
# one request may make a worker hold. Within them, everything reaches the service, which
# answers in the API's JSON error format (oms.core.request_limits). A body has no limit here:
# the service checks Content-Length before reading it.
limit_request_line = 8190
limit_request_field_size = 16384
limit_request_fields = 200
max_requests_jitter = 1_000


def on_starting(server):
    # Prometheus counters from several worker processes are merged through this directory.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
