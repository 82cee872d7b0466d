"""The CAD program: schema, JSON, text, tokens, grammar, canonical form, validation, importers."""
