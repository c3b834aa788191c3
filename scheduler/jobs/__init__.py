"""Scheduler jobs: plain async functions taking a JobContext, safe to re-run."""
