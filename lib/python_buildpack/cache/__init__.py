"""The build cache in CACHE_DIR: layers keyed by their step's inputs (it knows nothing of what they hold)."""
