"""Channels: adapters that turn outside traffic into conversation commands and back."""
