"""Flask pieces shared by the intake and triage blueprints (unbound until the factory)."""
