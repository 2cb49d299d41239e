"""Written answers: the work queue, write and approve, delivery records, the public page."""
