#!/usr/bin/env python3
"""Writes the synthetic "repeat" corpus of the built-in repeat models (assets/models/*-repeat).

Each line is a random word of 8 lowercase letters (--min-len/--max-len) written three times:

    qhzvbkwe qhzvbkwe qhzvbkwe

The first copy cannot be predicted (ln 26 = 3.26 nats per letter); the second and third
can, by looking back at the previous copy, 9 bytes earlier. A model that learns the task
has heads whose attention jumps back exactly one word: crisp patterns for the Attention
view. (Words of varying length make the built-in sizes learn far slower: with 6 to 16
letters and the same budget the copies stay uncertain.)

Usage: python3 tools/make_repeat_corpus.py OUT.txt [--bytes N] [--seed S]
Deterministic: the same seed and size give the same file.
"""
import argparse
import hashlib
import random
import string


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bytes", type=int, default=1_000_000, help="stop once the file is at least this long")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min-len", type=int, default=8, help="shortest word")
    ap.add_argument("--max-len", type=int, default=8, help="longest word")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    lines, size = [], 0
    while size < a.bytes:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(a.min_len, a.max_len)))
        line = " ".join([word] * 3) + "\n"
        lines.append(line)
        size += len(line)
    data = "".join(lines).encode("ascii")
    with open(a.out, "wb") as f:
        f.write(data)
    print(f"{a.out}: {len(lines)} lines, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
