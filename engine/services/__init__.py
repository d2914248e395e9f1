"""The engine's services, one module per resource, wired by ``engine.engine.Engine``.

Clients reach them as ``engine.containers``, ``engine.images`` ... and import
their types from ``engine`` itself; this package stays empty so that a service
is imported only when a command first uses it.
"""
