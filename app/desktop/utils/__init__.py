"""What every part of the window uses: sizes and ages, colours, error sentences, the command
log, the window's saved state.
"""
