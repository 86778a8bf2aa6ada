"""The search engines behind the search port (projections/search/port.py): tantivy, embedded
under the data directory, and OpenSearch."""
