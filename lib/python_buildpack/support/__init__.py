"""Shared helpers: running commands, partial files, snapshots of files, disk-full detection."""
