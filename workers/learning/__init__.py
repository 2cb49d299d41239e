"""Learning across meetings from staff decisions: pairs, the learned layer, its job."""
