"""Images: the "+ New" image browser, local and registry models, pulls and their progress, and
the layer drawing.
"""
