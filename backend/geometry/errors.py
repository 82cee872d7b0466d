"""The error every mesh and point-cloud reader raises: ``MeshError``, with a message fit for the user."""


class MeshError(ValueError):
    """The mesh cannot be used; the message says why."""
