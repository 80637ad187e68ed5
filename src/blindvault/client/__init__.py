"""The blindvault client: the SDK (`Vault`) and what it keeps on the local machine."""
