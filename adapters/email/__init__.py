"""The adapters of the email port (projections/mail/port.py): a log line per message, the
default (`log.py`), and delivery to a mail server over SMTP (`smtp.py`, `VELORA_SMTP_URL`)."""
