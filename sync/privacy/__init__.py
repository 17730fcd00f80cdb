"""Erasing a caller (LGPD art. 18, GDPR art. 17) and per-kind retention: the writing side.

- `keys`: the keyed, irreversible hash of a number and the token that replaces it;
- `scrub`: how one call row, its raw record and any text lose a number;
- `fields`: the personal fields outside the call rows (a list other apps add to);
- `erase`: `erase_caller`, one transaction per environment, then the caches;
- `arrival`: the tombstones applied to calls and rejected records as a sync writes them;
- `retention`: transcripts, recording links and numbers anonymised once they age out.

The number itself is never stored, logged or queued: only its hash (`keys.number_hash`).
"""
