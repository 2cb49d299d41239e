"""Quality evaluations: grouping, duplicate matching, themes and moderation on labelled sets."""
