"""systemDependencies: the registry of hooks, Debian packages unpacked without root,
the tree made to work from the slug, and the step that provides them."""
