"""Routing: queues' business hours and response-time targets, due times of conversations."""
