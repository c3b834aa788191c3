"""Background jobs: reminders, expiry, closing overdue attempts, driving the delivery queue."""
