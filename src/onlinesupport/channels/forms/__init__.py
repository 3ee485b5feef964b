"""Web-form intake: the public contact form becomes a routed conversation."""
