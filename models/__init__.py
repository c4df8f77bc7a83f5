"""Data model and domain logic: plain synchronous functions over peewee models.

Handlers call these through ``models.db.db_call`` so that no query ever runs
on the event loop thread.
"""
