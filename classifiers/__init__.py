"""Document-type classification and the per-type layout knowledge (layouts/*.toml)."""
