"""The registry client: the OCI distribution protocol over httpx, for the engine.

``service.RegistryClient`` is the entry point (pull, push, login, logout,
search, catalog, tags). Underneath, one module a job: ``endpoints`` (HTTPS or,
where allowed, HTTP; CA certificates), ``credentials`` (auth.json files),
``auth`` (challenges, Basic, Bearer tokens), ``session`` (one registry, one
operation), ``responses`` (failures as sentences), ``manifests`` and
``platforms`` (what to pull), ``download``/``pull`` and ``upload``/``push``
(moving blobs), ``search`` (catalog, tags, Docker Hub search), ``model``
(what callers get back).
"""
