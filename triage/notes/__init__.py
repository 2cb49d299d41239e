"""The meeting notes: a DOCX draft for the minute-taker, built from the agenda."""
