"""Skiff's container engine: an asyncio library with no Qt and no privileges.

Import what you need from its modules (``engine.engine.Engine``,
``engine.errors``...). This package module stays empty on purpose: the
per-container monitor imports parts of ``engine`` right after exec, and must
not pay for asyncio, SQLite or HTTP.
"""
