"""Inline keyboards and their callback payloads."""
