"""The cryptographic core of blindvault (format v1).

Pure: no file, network, database or clock access; randomness is injected where a
deterministic inner function exists for test vectors. `blindvault.core.primitives`
is the only module that imports `cryptography`; everything else names operations
by purpose (`wrap_vault_key`, `seal_manifest`, `open_envelope`, ...).
The byte-exact format is in docs/spec/format-v1.md.
"""
