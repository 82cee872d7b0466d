"""What the importers raise (re-exported by ``backend.cad.importers``)."""


class ImportErrorUnsupported(ValueError):
    """The file uses something outside sketch + extrude; the message names the feature and what."""


class ImportFormatError(ValueError):
    """The data is not a recognised / well-formed DeepCAD or Fusion 360 Gallery file."""
