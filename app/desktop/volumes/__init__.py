"""The Volumes page: named storage that outlives containers, its users and sizes."""
