"""Helpers shared by the benchmark scripts: machine description, timing, JSON output."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

# where the JSON goes (RECSYS_TUTORIAL_BENCH_RESULTS overrides, e.g. for a test run)
RESULTS = Path(os.environ.get("RECSYS_TUTORIAL_BENCH_RESULTS", Path(__file__).resolve().parent / "results"))
# where make test / make book run the notebooks and record their timings
STAGE = Path(os.environ.get("RECSYS_TUTORIAL_STAGE", Path(__file__).resolve().parent.parent / "_stage"))


def machine() -> dict:
    """Processor, cores, torch version and the load when measured (shared machines drift)."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "processor": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
    }


@contextmanager
def timer(store: dict, key: str):
    """Adds the elapsed wall time (seconds) of the block to ``store[key]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        store[key] = store.get(key, 0.0) + time.perf_counter() - start


def write_json(name: str, payload: dict, *, results: Path = RESULTS) -> Path:
    """Atomically write ``results/name`` (temporary file, then rename)."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / name
    fd, tmp = tempfile.mkstemp(dir=results, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, sort_keys=True, default=float)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
    os.replace(tmp, path)
    return path


def read_json(name: str, *, results: Path = RESULTS) -> dict | None:
    path = results / name
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
