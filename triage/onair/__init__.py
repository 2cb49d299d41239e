"""On air: the chair's live view, the broadcast overlay and coverage as the meeting runs."""
