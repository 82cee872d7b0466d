"""Geometry: program -> solid (manifold3d), mesh I/O, normalisation, sampling, metrics."""
