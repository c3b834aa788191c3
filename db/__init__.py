"""Persistence: models, the session factory and the migrations."""
