"""The LeanEngine Python buildpack: detect, compile and release Python web apps."""

BUILDPACK_NAME = "leanengine-python"
BUILDPACK_VERSION = "0.2.0"
