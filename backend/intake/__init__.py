"""Intake: what the pipeline accepts and how it is prepared before anything is fitted.

``check``: validation with clear errors (``InputMeshError``), never modifying the input (meshes and point
clouds). ``budget``: meshes past the work budget decimated on a copy. ``orient``: the part's own axes.
``prepare``: the normalised input with its frame, surface points, normals and noise. ``options``: the
ranges of the pipeline's options. ``files``: the mesh files a command line names (folders expanded).
"""
