"""Section candidates: programs fitted directly from axis-aligned cross-sections of a mesh.

``fit``: shapely sections -> profiles of lines, arcs and circles. ``candidates``: one-feature
section extrusions (``section_candidates``, ``best_section_program``: the evaluation's reference
row), stacked ones for stepped parts (``layered_candidates``), and IoU ranking.
"""
