"""Stepladder's storage: SQLModel tables, engine setup, embedded PostgreSQL and migrations.

Imports neither `service` nor `programs`.
"""
