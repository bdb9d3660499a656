"""Serving: the WSGI app (site files and /api/search) and the server."""
