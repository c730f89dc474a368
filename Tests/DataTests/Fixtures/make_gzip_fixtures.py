#!/usr/bin/env python3
"""Writes the small gzip fixtures used by GzipReadingTests.swift. Run from this directory; output is
deterministic (mtime 0)."""
import gzip

records = b"".join(
    b'{"prompt": "question %d", "chosen": "a helpful answer %d", "rejected": "a rude answer %d"}\n' % (i, i, i)
    for i in range(40))
whole = gzip.compress(records, mtime=0)

def write(name, data):
    with open(name, "wb") as f:
        f.write(data)

write("pairs.jsonl.gz", whole)
# Half the compressed bytes: the deflate stream stops mid-block.
write("pairs_cut_short.jsonl.gz", whole[: len(whole) // 2])
# Two members, as `cat a.gz b.gz` makes: 25 records, then 15.
lines = records.splitlines(keepends=True)
write("pairs_two_members.jsonl.gz",
      gzip.compress(b"".join(lines[:25]), mtime=0) + gzip.compress(b"".join(lines[25:]), mtime=0))
# A flipped byte in the compressed data: caught by inflate or by the CRC-32 in the trailer.
corrupt = bytearray(whole)
corrupt[len(corrupt) // 2] ^= 0xFF
write("pairs_corrupt.jsonl.gz", bytes(corrupt))
# Bytes after the last member that do not start another member.
write("pairs_trailing_garbage.jsonl.gz", whole + b"not gzip")
