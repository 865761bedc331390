# gunicorn settings of the API server, mounted at /app/gunicorn.conf.py (files: in service.yaml).
import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WORKERS", "2"))
worker_class = "uvicorn.workers.UvicornWorker"
graceful_timeout = 20
worker_tmp_dir = "/tmp"
accesslog = "-"
