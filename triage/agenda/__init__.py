"""The agenda builder: sections and numbered items built from question groups, and publishing."""
