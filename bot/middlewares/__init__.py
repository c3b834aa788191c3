"""Middlewares: who is talking, in which language."""
