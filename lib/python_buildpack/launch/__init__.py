"""Launching the app: the start command and its files, .profile.d, the smoke check and
the SDK check."""
