"""The HTTP API's wire contract: one pydantic model for every request body and every 2xx
JSON answer, one module per resource.

The server declares them as request bodies and `response_model`s (so `/openapi.json`
describes every answer); the client parses answers with them, so a malformed answer is a
typed `pydantic.ValidationError` at one place. This package imports only pydantic and the
standard library (an import-linter contract keeps it so): it states shapes and bounds,
never rules that need a database or a key.
"""
