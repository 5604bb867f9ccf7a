"""The knowledge store: SQLAlchemy models, the content loader and the in-memory snapshot."""
