"""Intake: what the pipeline accepts and how it is prepared before anything is fitted.

``check``: validation with clear errors (``InputMeshError``), never modifying the input.
``files``: the mesh files a command line names (folders expanded).
"""
