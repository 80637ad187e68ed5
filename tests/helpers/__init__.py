"""Everything the tests share, one module per kind of helper (tests import
`from helpers.X import ...`; each folder's conftest.py re-exports the fixtures it uses):

- servers: free ports, real `blindvault server` processes, SeaweedFS, PostgreSQL, S3 specs
  (the process code is `blindvault.testing`, shared with the benchmark)
- real_server: a server with direct database access, for the hardening tests
- accounts: clients from chosen loopback addresses and raw accounts, for the accounts tests
- client: the in-process CLI runner of the client tests and its request recorder
- inprocess: the server app in this process behind an httpx transport (no server process)
- proxy: the lying reverse proxy (the malicious server of ATTACKS.md)
- adversarial: the attack harness over that proxy (victim account, `attack`, no-oracle check)
- faults: a server and SeaweedFS a test can kill and restart, behind the proxy
- budgets: how long fuzz, load, race and fault runs are (BLINDVAULT_LONG_TESTS=1)
- writers: concurrent writers of one folder and the tally of what won (load tests)
- memory: resident memory of a process
- vectors: the external test-vector files
"""
