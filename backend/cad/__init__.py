"""The CAD program: schema, curve geometry and tessellation, JSON, text, tokens, grammar, canonical form,
validation, importers. Imports nothing from the rest of ``backend`` (geometry, data... import it)."""
