"""The conversation model and what every channel and feature shares: conversations, the
event hub, customers, attachments, canned replies, scripts, inbox views, who views
what, the company's branding and the one outbox worker."""
