"""Where the buildpack puts its parts in the slug: one directory beside the
app's own files, which every stage writes into and the launch reads from."""

SLUG_DIR = ".lean"
