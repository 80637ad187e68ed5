"""Real services on loopback for the test suite and the benchmark: a `blindvault server`
process, SeaweedFS with its S3 gateway, a throw-away PostgreSQL database.

Shipped in the package because `python -m blindvault bench` starts the same services the
tests do; the product code never imports it. It imports nothing of blindvault's own.
"""
