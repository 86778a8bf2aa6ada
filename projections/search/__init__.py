"""The product search read model: one port, an embedded tantivy engine, and OpenSearch."""
