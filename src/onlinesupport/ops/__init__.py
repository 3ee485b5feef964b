"""Running one instance: the data folder, daily backups and restores, the first-run link
and checklist, TLS certificates, and the operating system's service (Linux, Windows)."""
