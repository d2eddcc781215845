"""The store: SQLAlchemy models, the engine/session setup, migrations and repositories.

The same code runs on SQLite (the embedded default) and PostgreSQL (production).
Repositories never commit; the service layer owns transactions.
"""
