"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import gc
import os

bind = os.environ.get("CLINIC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CLINIC_WORKERS", "4"))
# Sync workers: each request holds one database connection for its short transaction.
worker_class = "sync"
timeout = 30


def post_worker_init(worker):
    """Keep the garbage collector from pausing requests.

    A board or chart page allocates hundreds of thousands of short-lived objects; with the
    default thresholds a full collection over the app's long-lived objects (models, compiled
    templates and SQL) ran every dozen requests and added 50–100 ms to one of them. Freezing
    what exists once the app is loaded, and collecting the young generation less often, removed
    those pauses in bench/ (see README, "Benchmarks").
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
