# Written by the LeanEngine Python buildpack: the default web server of an app
# whose `application` is a tornado.web.Application (Tornado 6 apps are not
# WSGI apps, so gunicorn cannot serve them). Tornado's own HTTPServer with the
# rules of the other kinds: 0.0.0.0:$LEANCLOUD_APP_PORT, one process per worker
# (WEB_CONCURRENCY, else LEANCLOUD_AVAILABLE_CPUS, else 1), the access log on
# stdout, X-Forwarded-* from the platform's router trusted, and on SIGTERM no
# new connections, requests in flight given up to 8 s, exit 0.
# Usage: python tornado_server.py MODULE:ATTRIBUTE. Python 2 and 3 compatible.
import logging
import os
import runpy
import signal
import sys
import time

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerConnectionDelegate
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

# One set of rules for every kind: the port, the workers and the grace after
# SIGTERM are read from the gunicorn settings beside this file.
SETTINGS = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn.conf.py"))
GRACE_SECONDS = SETTINGS["graceful_timeout"]


def _load(target):
    module_name, _, attribute = target.partition(":")
    sys.path.insert(0, os.getcwd())
    return getattr(__import__(module_name), attribute or "application")


def _configure_logging():
    # Tornado logs access lines to `tornado.access` at INFO, and nothing
    # without a handler; an app that set up logging itself keeps its own.
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                            format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")


class _Requests(object):
    """Requests between their headers and their handler's end (Application.log_request)."""

    def __init__(self, app):
        self.active = 0
        logged = app.log_request

        def log_request(handler):
            self.active = max(0, self.active - 1)
            logged(handler)

        app.log_request = log_request


class _Counted(object):
    """The app's per-request delegate, counting the request once its headers arrive."""

    def __init__(self, delegate, requests):
        self._delegate = delegate
        self._requests = requests

    def headers_received(self, start_line, headers):
        self._requests.active += 1
        return self._delegate.headers_received(start_line, headers)

    def __getattr__(self, name):
        return getattr(self._delegate, name)


class _CountingApp(HTTPServerConnectionDelegate):
    def __init__(self, app, requests):
        self._app = app
        self._requests = requests

    def start_request(self, server_conn, request_conn):
        return _Counted(self._app.start_request(server_conn, request_conn), self._requests)

    def on_close(self, server_conn):
        self._app.on_close(server_conn)


def serve(sockets, app):
    if sys.version_info[0] >= 3:
        import asyncio
        asyncio.set_event_loop(asyncio.new_event_loop())
    loop = IOLoop.current()
    requests = _Requests(app)
    server = HTTPServer(_CountingApp(app, requests), xheaders=True)
    server.add_sockets(sockets)
    stopping = []

    def drain(deadline):
        if requests.active == 0 or time.time() > deadline:
            loop.stop()
        else:
            loop.call_later(0.05, drain, deadline)

    def stop():
        if not stopping:
            stopping.append(True)
            server.stop()
            drain(time.time() + GRACE_SECONDS)

    signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(stop))
    loop.start()


def _wait_for(children):
    while children:
        try:
            pid, _status = os.wait()
        except OSError:  # EINTR on Python 2; ECHILD when none is left
            if not _alive(children):
                return
            continue
        if pid in children:
            children.remove(pid)


def _alive(children):
    for pid in list(children):
        try:
            os.kill(pid, 0)
        except OSError:
            children.remove(pid)
    return children


def main():
    app = _load(sys.argv[1] if len(sys.argv) > 1 else "wsgi:application")
    _configure_logging()
    host, port = SETTINGS["bind"].rsplit(":", 1)
    workers = SETTINGS["workers"]
    sockets = bind_sockets(int(port), host)
    logging.getLogger("tornado.general").info(
        "Tornado listening at http://%s:%s with %d worker(s)", host, port, workers)
    if workers == 1:
        serve(sockets, app)
        return 0
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            serve(sockets, app)
            sys.stdout.flush()
            os._exit(0)
        children.append(pid)
    # The platform signals the whole group; a SIGTERM to this process alone
    # is passed on, so the workers drain either way.
    signal.signal(signal.SIGTERM, lambda *_: [os.kill(pid, signal.SIGTERM) for pid in _alive(children)])
    _wait_for(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
