"""Exporters into the rest of the CAD world.

- ``step``: program -> B-rep solid (planar and cylindrical faces) -> STEP file, through OpenCascade's
  Python bindings (the optional ``step`` extra: ``pip install -e ".[step]"``).
- ``cadquery_script``: program -> a readable, runnable CadQuery script (text only; needs nothing).

Neither module is imported here, so ``import backend.export`` never needs OpenCascade.
"""

EXPORT_FORMATS = ("step", "cadquery")
SUFFIXES = {"step": ".step", "cadquery": ".py"}
