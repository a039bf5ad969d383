"""Reporting, at the bottom: the user-error catalogue, the only module that prints,
and the build report."""
