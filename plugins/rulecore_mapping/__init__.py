"""Declarative field mappings: real exports (CSV, JSON lines) in, interaction records out."""
