"""The phone channel: numbers as customers type them, and callback requests."""
