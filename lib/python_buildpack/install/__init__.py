"""The install step: its inputs (the cache key), pip and uv and their failure diagnosis,
the pinned tools, the app's install commands and their environment."""
