"""Stable import path of the HTTP client (`blindvault.client.net.http`)."""

from blindvault.client.net.http import ApiClient, b64d, b64e

__all__ = ["ApiClient", "b64d", "b64e"]
