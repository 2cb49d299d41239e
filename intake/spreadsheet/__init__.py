"""Spreadsheet intake: a CSV or XLSX of questions, checked row by row before it is imported."""
