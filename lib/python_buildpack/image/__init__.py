"""bin/image: the compiled slug as a layered, reproducible OCI image.

Build and publish are kept apart (as ko does): `layers`, `launcher` and
`config` make the image from a slug; `layout` (OCI layout directory, tarball)
and `push` (a registry, through `registry`) publish it. `base` reads and checks
the base image, `os_needs` records at compile time what the slug needs from it.
"""
