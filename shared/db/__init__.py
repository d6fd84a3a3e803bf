"""Database tables, engine factory and migrations."""
