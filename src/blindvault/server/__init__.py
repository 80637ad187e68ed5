"""The blindvault server: blind storage of ciphertext and small opaque records.

It never imports the client or the crypto core (an import-linter contract): everything
it stores is opaque bytes chosen by clients, plus what it needs to authenticate devices,
enforce access, count quotas and keep an audit trail.
"""
