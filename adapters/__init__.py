"""Format adapters: convert between external formats and the store's OneRoster 1.2 JSON documents.

Why a separate package: adapters know file formats but nothing of Flask or the database, so they can be tested and
reused (import, export, validation tools) without an application.
"""
