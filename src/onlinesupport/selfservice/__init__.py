"""Self-service: what customers do on their own (their conversation page; later the knowledge
base)."""
