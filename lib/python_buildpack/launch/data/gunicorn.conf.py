# Written by the LeanEngine Python buildpack: settings of the default web server.
# Python 2 and 3 compatible: it is read by the app's own interpreter.
import os
import sys


def _positive_int(*names):
    for name in names:
        value = os.environ.get(name, "").strip()
        try:
            number = int(float(value))
        except ValueError:
            continue
        if number > 0:
            return number
    return 1


# The platform routes traffic to this port on every interface.
bind = "0.0.0.0:%s" % os.environ.get("LEANCLOUD_APP_PORT", "3000")
workers = _positive_int("WEB_CONCURRENCY", "LEANCLOUD_AVAILABLE_CPUS")
if sys.version_info[0] >= 3:
    # Threads keep a worker responsive while a request waits on I/O.
    worker_class = "gthread"
    threads = _positive_int("PYTHON_THREADS") if os.environ.get("PYTHON_THREADS") else 4
# The platform gives at least 10 s between SIGTERM and SIGKILL.
graceful_timeout = 8
timeout = 60
# Logs are collected from stdout/stderr.
accesslog = "-"
errorlog = "-"
# The platform's router sits in front of every instance.
forwarded_allow_ips = "*"
# The WSGI shim sits beside this file; gunicorn sets __file__ for config files.
pythonpath = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wsgi")
