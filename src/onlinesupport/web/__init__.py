"""The two HTTP listeners: `public` (internet-facing) and `desk` (LAN), with shared plumbing."""
