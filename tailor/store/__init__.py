"""Storage: the database (SQLite or PostgreSQL), its tables and its migrations."""
