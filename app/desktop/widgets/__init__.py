"""Small widgets and models the window's pages share: confirm boxes, the message bar, the
command bar, elided labels, row tables.
"""
