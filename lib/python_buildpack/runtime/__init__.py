"""CPython runtimes: the mirror, fetching and unpacking archives, relocation, and the packer
behind bin/package-runtime. Nothing here knows about the app."""
