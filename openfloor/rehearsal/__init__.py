"""Rehearsal mode: fake X and Graph API servers on 127.0.0.1 and a scripted broadcast.

Staff run ``openfloor rehearse`` before meeting night; the tests run the same code.
"""
