# Written by the LeanEngine Python buildpack, run once at build time by the
# app's own Python in the app's root: what kind of app is `application` in the
# entry module (argv[1], `wsgi` or `asgi`)? WSGI, ASGI 3 or Tornado decide the
# server. Python 2 and 3 compatible (2.7 apps are probed too). Prints one JSON
# line: {"kind": wsgi|asgi|tornado|invalid|import-failed, "found": ..., ...}.
import inspect
import json
import os
import sys
import types

sys.path.insert(0, os.getcwd())

try:
    STRING_TYPES = (str, bytes, unicode)  # noqa: F821 -- Python 2
except NameError:
    STRING_TYPES = (str, bytes)


def _positional_range(function, skip_first):
    """(required, most) positional arguments, or None when it cannot be read."""
    if hasattr(inspect, "signature"):
        try:
            parameters = list(inspect.signature(function).parameters.values())
        except (TypeError, ValueError):
            return None
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        positional = [p for p in parameters if p.kind in kinds]
        required = len([p for p in positional if p.default is p.empty])
        varargs = any(p.kind == p.VAR_POSITIONAL for p in parameters)
        return required, 99 if varargs else len(positional)
    try:
        spec = inspect.getargspec(function)
    except TypeError:
        return None
    count = len(spec.args) - (1 if skip_first else 0)
    return count - len(spec.defaults or ()), 99 if spec.varargs else count


def _takes(function, count, skip_first=False):
    found = _positional_range(function, skip_first)
    return found is None or found[0] <= count <= found[1], found


def _is_coroutine(function):
    check = getattr(inspect, "iscoroutinefunction", None)
    return check is not None and check(function)


def _name(value):
    kind = value if inspect.isclass(value) else type(value)
    module = getattr(kind, "__module__", "")
    qualname = getattr(kind, "__qualname__", kind.__name__)
    return qualname if module in ("builtins", "__builtin__", None) else "%s.%s" % (module, qualname)


def _arity(found):
    if found is None:
        return "some arguments"
    low, high = found
    if high == 99:
        return "%d or more arguments" % low
    return ("%d argument%s" % (low, "" if low == 1 else "s")) if low == high \
        else "%d to %d arguments" % (low, high)


def _invalid(found, problem="not-an-app"):
    return {"kind": "invalid", "problem": problem, "found": found}


def _classify_class(app):
    # PEP 3333 allows a class as the app (calling it starts the response), so
    # a class whose constructor needs exactly (environ, start_response) is one;
    # a web framework's class (FastAPI, Flask) is a missing `()`.
    constructor = app if hasattr(inspect, "signature") else app.__init__
    found = _positional_range(constructor, skip_first=True)
    if found is not None and found[0] == 2:
        return {"kind": "wsgi", "found": "the class %s" % _name(app)}
    return _invalid("the class %s itself, not an instance of it" % _name(app))


def _classify_callable(app):
    function = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    bound = function is not app or inspect.ismethod(app)
    if _is_coroutine(app) or _is_coroutine(function):
        fits, found = _takes(app, 3) if hasattr(inspect, "signature") else _takes(function, 3, bound)
        if fits:
            return {"kind": "asgi", "found": _describe(app)}
        return _invalid("%s, a coroutine function taking %s" % (_describe(app), _arity(found)),
                        "asgi-arity")
    fits, found = _takes(app, 2) if hasattr(inspect, "signature") else _takes(function, 2, bound)
    if fits:
        return {"kind": "wsgi", "found": _describe(app)}
    return _invalid("%s, a plain (not async) callable taking %s" % (_describe(app), _arity(found)))


def _describe(app):
    if inspect.isfunction(app) or inspect.ismethod(app):
        return "the function %s" % getattr(app, "__name__", "?")
    return "an instance of %s" % _name(app)


def classify(app):
    tornado_web = sys.modules.get("tornado.web")
    if tornado_web is not None and isinstance(app, tornado_web.Application):
        return {"kind": "tornado", "found": "an instance of %s" % _name(app)}
    if isinstance(app, STRING_TYPES):
        text = app if len(app) <= 60 else app[:60] + "..."
        return _invalid("a string, %r" % (text,))
    if isinstance(app, types.ModuleType):
        return _invalid("the module %s" % app.__name__)
    if inspect.isclass(app):
        return _classify_class(app)
    if not callable(app):
        return _invalid("None" if app is None else "an instance of %s, which cannot be called" % _name(app))
    return _classify_callable(app)


def main():
    module_name = sys.argv[1]
    try:
        module = __import__(module_name)
        app = module.application
    except Exception as error:  # the app's own failure: the smoke check shows it in full
        return {"kind": "import-failed", "found": "%s: %s" % (type(error).__name__, error)}
    return classify(app)


print(json.dumps(main()))
