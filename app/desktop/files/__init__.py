"""The Files tab: a container's filesystem as a lazy tree, and a read-only file viewer."""
