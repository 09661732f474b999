"""Record how long a Makefile step took: ``python -m benchmarks.timing KEY START_EPOCH_SECONDS``.

Merges ``{KEY: minutes}`` into _stage/book_timing.json (an untracked build folder), which
``make bench`` copies into summary.json.
"""

from __future__ import annotations

import sys
import time

from .common import STAGE, machine, read_json, write_json


def main(argv: list[str]) -> int:
    key, start = argv[0], float(argv[1])
    data = read_json("book_timing.json", results=STAGE) or {}
    data[key] = round((time.time() - start) / 60, 2)
    data[f"{key}_machine"] = machine()
    write_json("book_timing.json", data, results=STAGE)
    print(f"{key}: {data[key]} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
