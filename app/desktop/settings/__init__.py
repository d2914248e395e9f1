"""The Settings tab: a form over the container's configuration, and its editable tables."""
