"""The admin console's pages: agents, website chat, mailboxes, queues, rules,
integrations, privacy, backups, health and the first-run wizard."""
