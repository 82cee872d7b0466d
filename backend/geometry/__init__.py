"""Geometry: program -> solid (manifold3d), mesh and point-cloud I/O, normalisation, sampling, perturbations,
metrics."""
