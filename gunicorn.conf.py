"""gunicorn settings for production: `gunicorn wsgi:app` reads this file from the working directory.
Every value can be overridden from the environment (GUNICORN_CMD_ARGS or the variables below)."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (bounded memory)
max_requests_jitter = 200
# The app writes one JSON line per request itself (REQUEST_LOG), with the request id; no second access log.
accesslog = None
errorlog = "-"
# Trust X-Forwarded-* only from the proxy in front (set PROXY_HOPS=1 for the app as well).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
