# Files for the daemon's file services (test_http.py, test_tls.py): seeded
# random bytes written with their SHA-256, and the digest of what came back.
import hashlib
import random


def write_random_files(root, sizes, seed):
    """Writes each name of sizes (name -> bytes) under root with bytes from a
    PRNG seeded with seed, 1 MiB at a time; returns name -> sha256 hex."""
    rng = random.Random(seed)
    digests = {}
    for name, size in sizes.items():
        h = hashlib.sha256()
        with open(root / name, "wb") as f:
            left = size
            while left:
                chunk = rng.randbytes(min(left, 1 << 20))
                f.write(chunk)
                h.update(chunk)
                left -= len(chunk)
        digests[name] = h.hexdigest()
    return digests


def file_sha256(path):
    """The sha256 hex of a file read back (a download to compare)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
