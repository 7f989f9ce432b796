"""gunicorn settings, all overridable by environment (PORT, WEB_CONCURRENCY, FORWARDED_ALLOW_IPS)."""
import os

bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"
# Behind a reverse proxy on another host, list its address here (and set TRUSTED_PROXIES=1 for the app).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Build the app (and its database engine) in each worker, not in the master: SQLite connections must not be forked.
preload_app = False
