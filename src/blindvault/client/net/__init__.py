"""Talking to the server: the HTTP client (errors translated, answers parsed at one place),
streaming blob transfer, and the batching policy for small files."""
