"""The staff pages' blueprints (the board, groups, decisions, themes, comments, collectors,
accounts, sign-in and subject access); the logic they call lives one level up in ``triage``."""
