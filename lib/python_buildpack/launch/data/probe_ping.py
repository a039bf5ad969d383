# Written by the LeanEngine Python buildpack, run once at build time by the
# app's own Python in the app's root: does `application` serve the LeanCloud
# SDK's health check? Called the way its server will call it: argv[1] is the
# kind (wsgi, asgi, tornado), argv[2] the entry module. Python 2 and 3
# compatible (no async syntax: ASGI is driven with plain futures). Prints one
# JSON line.
import json
import os
import sys

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.environ["SLUG_ROOT"], ".lean", "wsgi"))
PING = "/__engine/1/ping"
TIMEOUT_SECONDS = 10


def _wsgi_status(module_name):
    # Through the slug's WSGI shim, as gunicorn serves it.
    os.environ["LEANENGINE_WSGI_APP"] = module_name + ":application"
    from leanengine_wsgi import application
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)
        return lambda data: None

    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": PING, "SCRIPT_NAME": "",
        "QUERY_STRING": "", "SERVER_NAME": "localhost", "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost:3000",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": sys.stdin,
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": True,
    }
    body = application(environ, start_response)
    for _ in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return statuses[-1] if statuses else "(none)"


def _asgi_status(module_name):
    import asyncio
    app = __import__(module_name).application
    loop = asyncio.new_event_loop()
    sent = []
    received = []

    def done(value):
        future = loop.create_future()
        future.set_result(value)
        return future

    def receive():
        received.append(True)
        if len(received) == 1:
            return done({"type": "http.request", "body": b"", "more_body": False})
        return loop.create_future()  # the client stays connected

    def send(message):
        sent.append(message)
        return done(None)

    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": PING, "raw_path": PING.encode(),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"localhost:3000")],
        "client": ("127.0.0.1", 40000), "server": ("localhost", 3000),
    }
    loop.run_until_complete(asyncio.wait_for(app(scope, receive, send), TIMEOUT_SECONDS))
    starts = [message["status"] for message in sent if message.get("type") == "http.response.start"]
    return str(starts[0]) if starts else "(none)"


def _tornado_status(module_name):
    from tornado.httpclient import AsyncHTTPClient
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.netutil import bind_sockets

    if sys.version_info[0] >= 3:
        import asyncio
        asyncio.set_event_loop(asyncio.new_event_loop())
    app = __import__(module_name).application
    sockets = bind_sockets(0, "127.0.0.1")
    HTTPServer(app).add_sockets(sockets)
    url = "http://127.0.0.1:%d%s" % (sockets[0].getsockname()[1], PING)
    response = IOLoop.current().run_sync(
        lambda: AsyncHTTPClient().fetch(url, raise_error=False), timeout=TIMEOUT_SECONDS)
    return str(response.code)


STATUS_OF = {"wsgi": _wsgi_status, "asgi": _asgi_status, "tornado": _tornado_status}


def main():
    kind, module_name = sys.argv[1], sys.argv[2]
    try:
        import leancloud  # noqa: F401
    except ImportError:
        return {"ok": False, "reason": "the `leancloud` package is not installed"}
    try:
        status = STATUS_OF[kind](module_name)
    except Exception as error:  # the app's own failure, reported as found
        return {"ok": False, "reason": "calling %s.py's application for %s failed: %r"
                % (module_name, PING, error)}
    if not status.startswith("200"):
        return {"ok": False, "reason": "GET %s answered %s, not 200" % (PING, status)}
    return {"ok": True, "reason": ""}


print(json.dumps(main()))
