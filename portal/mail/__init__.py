"""Mail: the transactional outbox, the message texts, and delivery (SMTP, console, folder)."""
