"""A student information system in Telegram."""
