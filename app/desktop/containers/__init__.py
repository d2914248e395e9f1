"""The containers list and one container's details: the sidebar's model, delegate and rows, the
header and its actions, and how containers are made and replaced.
"""
