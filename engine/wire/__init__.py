"""What the engine and its helper agree on, and nothing else: neither side's code.

The protocol's frames and verbs (``protocol``, with the field schemas of ``schema``),
the container spec sent at create (``containerspec``), and the files and streams a
container's monitor writes for the engine to read (``statusfile`` with
``healthstate``, ``logformat``, ``attachstream``). The engine (in the user's process)
and the helper (root) both import this package; it imports neither of them, so the
two sides depend on the contract and not on each other (tests/engine/test_layering.py).
"""
