"""Practice history: every attempt kept (SQLAlchemy, Alembic), per anonymous identity."""
