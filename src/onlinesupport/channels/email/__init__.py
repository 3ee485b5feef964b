"""Email: IMAP pull, the SMTP receiver, MIME parsing, threading and the retrying outbox."""
