"""The Terminal tab: a shell's exec session, the screen it feeds, the widget drawing it and the
keys it sends.
"""
