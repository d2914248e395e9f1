"""The Stats tab: one stream of samples, the series the charts draw, and the charts."""
