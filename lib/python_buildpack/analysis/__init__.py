"""Reading the upload and deciding what to build: ENV_DIR, leanengine.yaml, the entry
point, .python-version, requirement files, and the plan (nothing is written here)."""
