"""The Disk usage page: ``skiff system df`` as a picture, with a way to reclaim each kind."""
