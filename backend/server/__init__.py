"""The local inference server the Blender add-on talks to (``python -m backend serve``).

``process`` owns the process (port, token file, signals), ``app`` the FastAPI endpoints under /v1,
``jobs`` the one-worker job queue, ``mesh`` meshes on the wire, ``schema`` the limits and wire models.
"""
