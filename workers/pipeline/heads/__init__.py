"""Learned heads (logistic regression weights) read by workers.pipeline.linear_head."""
