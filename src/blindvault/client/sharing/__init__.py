"""The building blocks of sharing folders with people: owner-signed rosters and their
freshness, grants with sealed envelopes, verified incoming shares and their mount names,
and who a key may be sealed to. `client/shares.py` is the feature on top of them."""
