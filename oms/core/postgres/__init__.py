"""Django's PostgreSQL backend with one change to how small multi-row INSERTs are written
(see `compiler`). settings.py names it as the ENGINE whenever DATABASE_URL is PostgreSQL."""
