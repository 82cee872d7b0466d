"""Section candidates: programs fitted directly from axis-aligned cross-sections of the input.

``candidates``: one-feature section extrusions (``section_candidates``) and stacked ones for stepped
parts (``layered_candidates``); ``all_candidates`` is both. They take a clean mesh, a scan-like mesh
(open, noisy, remeshed) or a point cloud, in the normalised frame; ``slicer_for`` picks the route.
``fit``: exact sections of a clean mesh -> lines, arcs and circles (``MeshSlicer``, unchanged).
``slices`` (``RobustSlicer``), ``cloud`` and ``noisy_fit``: scans and point clouds -> surface samples,
noise, a closed solid, sections snapped onto the samples, and least-squares lines, arcs and circles at a
tolerance from the noise. The verifier (``backend.verify.reference``) ranks them.
"""
