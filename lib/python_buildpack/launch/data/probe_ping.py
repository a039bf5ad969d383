# Written by the LeanEngine Python buildpack, run once at build time by the
# app's own Python in the app's root: does `application` serve the LeanCloud
# SDK's health check? Python 2 and 3 compatible. Prints one JSON line.
import json
import os
import sys

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.environ["SLUG_ROOT"], ".lean", "wsgi"))


def main():
    try:
        import leancloud  # noqa: F401
    except ImportError:
        return {"ok": False, "reason": "the `leancloud` package is not installed"}
    try:
        from leanengine_wsgi import application
    except Exception as error:  # the app's own import failure, reported as found
        return {"ok": False, "reason": "importing wsgi.py failed: %r" % (error,)}
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)
        return lambda data: None

    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/__engine/1/ping", "SCRIPT_NAME": "",
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
    status = statuses[-1] if statuses else "(none)"
    if not status.startswith("200"):
        return {"ok": False, "reason": "GET /__engine/1/ping answered %s, not 200" % status}
    return {"ok": True, "reason": ""}


print(json.dumps(main()))
