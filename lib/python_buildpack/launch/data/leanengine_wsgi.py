"""The app's ``wsgi:application``, as the platform serves it.

Written into the slug by the LeanEngine Python buildpack. It forgives one
thing strict servers refuse: calling ``start_response`` again before any body
was sent. The LeanCloud SDK's ``/__engine/1/ping`` handler does that, and
gunicorn answers it with HTTP 500 (gevent.pywsgi and uWSGI tolerate it). The
last status and headers given before the first body bytes win.
Python 2 and 3 compatible.
"""
import importlib
import os


class ForgivingStartResponse(object):
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        response = _DeferredResponse(start_response)
        result = self.app(environ, response.start_response)
        return _Body(result, response)


class _DeferredResponse(object):
    def __init__(self, start_response):
        self._start_response = start_response
        self._pending = None
        self._write = None

    def start_response(self, status, headers, exc_info=None):
        if self._write is not None:
            # Headers are out: let the server apply PEP 3333 (re-raise exc_info).
            return self._start_response(status, headers, exc_info)
        self._pending = (status, headers, exc_info)
        return self.write

    def send_headers(self):
        if self._write is None and self._pending is not None:
            self._write = self._start_response(*self._pending)

    def write(self, data):
        self.send_headers()
        return self._write(data)


class _Body(object):
    def __init__(self, result, response):
        self._result = result
        self._response = response

    def __iter__(self):
        for chunk in self._result:
            # Empty chunks carry nothing and would reach the server before
            # the deferred status (gunicorn then fails the request): dropped.
            if chunk:
                self._response.send_headers()
                yield chunk
        self._response.send_headers()

    def close(self):
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def _load_app():
    target = os.environ.get("LEANENGINE_WSGI_APP", "wsgi:application")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "application")


application = ForgivingStartResponse(_load_app())
