"""The Logs tab: an index over the container's log file, the model reading only what is
painted, the delegate drawing ANSI colours, and the view.
"""
