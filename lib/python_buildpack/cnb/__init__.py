"""The Cloud Native Buildpack (Buildpack API 0.10) entry points, on top of the
classic stages: bin/detect without arguments in a CNB environment."""
