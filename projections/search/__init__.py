"""The product search read model: the search port, the projector that feeds it, and its rebuild.
The engines behind the port, tantivy and OpenSearch, are in adapters/search/."""
