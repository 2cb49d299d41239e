"""The meeting report to the Police and Crime Panel: figures, charts, page and DOCX."""
