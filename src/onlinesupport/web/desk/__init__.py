"""The desk listener (LAN only): sign-in, agent desk, admin console, JSON API, agent websocket."""
