"""The key agent (issue 18): `blindvault unlock` hands one account's vault key to a
background process of this user, and commands take it from there instead of asking for
the password and running Argon2id again.

- `paths`: where the agent lives (a 0700 directory of this user) and the checks made on
  that directory, its socket and its peer before anything is sent or received;
- `protocol`: one JSON request and one JSON answer per connection;
- `daemon`: the agent process (keys in memory only, wiped on `lock` and at expiry);
- `client`: what the CLI calls (start, unlock, fetch, status, lock — by pidfile when the
  agent does not answer).

This package imports no crypto and nothing of the HTTP stack, so a command that asks it
for a key stays small."""
