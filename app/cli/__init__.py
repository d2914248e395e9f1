"""The ``skiff`` command line: docker's commands over Skiff's own engine."""
