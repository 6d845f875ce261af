"""Gunicorn's settings for GrantFlow in production, read by gunicorn from the working
directory (or given with -c):

    gunicorn -c gunicorn.conf.py 'grantflow:create_app()'

Every setting can be overridden on the command line; the environment sets the common ones."""

import gc
import multiprocessing
import os

# Listen where the environment says (PORT), on loopback behind the reverse proxy by default.
bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Synchronous workers, cores + 1, or WEB_CONCURRENCY. A request here is mostly the worker's
# own CPU (its database round trips are short, slow work is on the task queue, and the reverse
# proxy buffers slow clients), so more workers than cores only take turns on them: a deadline
# crowd (bench/surge.py, 2 cores) was submitted fastest with 3 workers, 15 % (SQLite) to 50 %
# (PostgreSQL) faster than with gunicorn's usual 2 × cores + 1 = 5.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() + 1)
worker_class = "sync"

# A request still running after this many seconds has its worker killed and replaced, so a
# slow page whose client has gone is not rendered on for minutes; the next request is served.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On restart or shutdown, requests in progress get this long to finish.
graceful_timeout = 30
# Keep an idle connection from the proxy open this long (seconds) for its next request.
keepalive = 5

# Replace each worker after about this many requests (staggered by the jitter), so memory a
# worker gathered over time is given back.
max_requests = 1000
max_requests_jitter = 100

# Access log to stdout: client, user-agent, status, size and the time taken (microseconds).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sµs "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Behind one reverse proxy (nginx) on the same machine: trust its X-Forwarded-* headers
# (the app's PROXY_FIX does the same for Flask).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Once a worker has loaded the app, its objects (about 260,000: models, compiled
    statements, templates, translation catalogues) are put out of the cyclic garbage
    collector's reach (gc.freeze). They live as long as the worker; a full collection scanned
    them all, a pause of about 150 ms inside some request every hundred or so submissions, and
    a sixth of a submission's CPU on average. What requests create is collected as before."""
    gc.collect()
    gc.freeze()
