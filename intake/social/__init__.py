"""Social media collectors: X posts and Facebook comments into the one queue.

Each collector turns what it finds into ``SubmissionMessage``s that go through the outbox
exactly like the web form; its checkpoint is saved in the same transaction as the outbox rows,
so a restart neither misses nor repeats an item.
"""
