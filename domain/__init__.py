"""Shared domain of openfloor: settings, models, the queue contract and the event bus.

This package sits underneath ``intake``, ``workers`` and ``triage`` and imports none of them.
"""
