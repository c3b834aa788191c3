"""Sending what the outbox holds: renderers per template and the paced worker."""
