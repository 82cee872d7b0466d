"""Procedural training data: generator, dataset, distribution statistics."""
