#!/usr/bin/env python3
"""Builds the training corpus of the built-in trained models from Debian's `fortunes`
package (BSD licence, see assets/models/CORPUS.md): every fortune of
/usr/share/games/fortunes except the ascii-art file, shuffled with a fixed seed so the
held-out end of the corpus (train.csv's validation split) is drawn from every file, one
blank line between fortunes.

    sudo apt-get install fortunes
    python3 tools/make_fortunes_corpus.py /tmp/fortunes.txt
"""
import hashlib
import os
import random
import sys

SRC = "/usr/share/games/fortunes"
SKIP = {"ascii-art"}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if not os.path.isdir(SRC):
        print(f"{SRC} is missing: install Debian's `fortunes` package", file=sys.stderr)
        return 1
    items = []
    for name in sorted(os.listdir(SRC)):
        path = os.path.join(SRC, name)
        if name.endswith((".dat", ".u8")) or name in SKIP or os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            text = f.read()
        for item in text.split(b"\n%\n"):
            item = item.strip(b"\n%").rstrip()
            if item:
                items.append(item)
    random.Random(7).shuffle(items)
    data = b"\n\n".join(items) + b"\n"
    with open(sys.argv[1], "wb") as f:
        f.write(data)
    print(f"{sys.argv[1]}: {len(items)} fortunes, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
