"""Search: the Whoosh schema and analyzers, indexer, query layer and WSGI search API."""
