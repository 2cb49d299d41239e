"""Email intake: a mailbox (IMAP or a folder of .eml) read into questions."""
