"""The public listener (internet-facing): only what customers and visitors may reach."""
