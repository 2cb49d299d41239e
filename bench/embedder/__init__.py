"""The offline embedder comparison: candidates, their costs and quality, and the report."""
