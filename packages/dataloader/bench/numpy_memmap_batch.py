#!/usr/bin/env python3
"""numpy memmap reference for bench/batch-fetch.mjs (optional, not part of CI).

Opens a GPT-NeoX uint16 .bin with np.memmap, views it as rows of SEQ_LEN tokens and times the two
access patterns of batch-fetch.mjs on the same file:

  seq     batch k = rows [k*B, (k+1)*B):  np.array(arr[k*B:(k+1)*B])      (and np.copyto into a reused array)
  random  B random rows per batch:        arr[rows] (fancy indexing)       (and np.take(out=reused), and a
                                                                             per-row loop into a reused array)

Each variant maps the file afresh and runs WARMUP untimed batches, then BATCHES timed ones; prints the
median ms/batch and GB/s (GB = 10^9 bytes). Cold runs (root only, like batch-fetch.mjs):
  --cold each   `sync; echo 3 > /proc/sys/vm/drop_caches` before every batch (warm-up ones included)
  --cold once   the page cache dropped once before each variant, then every batch timed (no warm-up)

Usage:
  python3 bench/numpy_memmap_batch.py /tmp/pythia-bench/synthetic-u16-1000000x2049.bin
  python3 bench/numpy_memmap_batch.py FILE.bin --indices rows.u32 --first-batch 500 --json
"""

import argparse
import json
import os
import sys
import time

import numpy as np


def cached_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Cached:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin")
    p.add_argument("--seq-len", type=int, default=2049)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--first-batch", type=int, default=500)
    p.add_argument("--indices", help="little-endian uint32 row numbers, (warmup+batches)*batch of them")
    p.add_argument("--seed", type=int, default=1234, help="for the random rows when --indices is absent")
    p.add_argument("--cold", choices=["each", "once"])
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    S, B = a.seq_len, a.batch
    n = a.warmup + a.batches
    batch_bytes = S * B * 2

    def open_rows():
        return np.memmap(a.bin, dtype=np.uint16, mode="r").reshape(-1, S)

    rows_total = open_rows().shape[0]
    if a.indices:
        idx = np.fromfile(a.indices, dtype="<u4").astype(np.int64)
        if idx.size < n * B:
            sys.exit(f"{a.indices}: {idx.size} row numbers, need {n * B}")
    else:
        idx = np.random.default_rng(a.seed).integers(0, rows_total, size=n * B)
    if a.first_batch + n > rows_total // B:
        sys.exit("--first-batch leaves too few batches")

    reused = np.empty((B, S), dtype=np.uint16)

    def v_seq(arr, b):
        k = a.first_batch + b
        return np.array(arr[k * B : (k + 1) * B])

    def v_seq_copyto(arr, b):
        k = a.first_batch + b
        np.copyto(reused, arr[k * B : (k + 1) * B])
        return reused

    def v_fancy(arr, b):
        return arr[idx[b * B : (b + 1) * B]]

    def v_take_out(arr, b):
        np.take(arr, idx[b * B : (b + 1) * B], axis=0, out=reused)
        return reused

    def v_per_row(arr, b):
        for i, r in enumerate(idx[b * B : (b + 1) * B]):
            reused[i] = arr[r]
        return reused

    variants = {
        "seq": v_seq,
        "seq_copyto": v_seq_copyto,
        "fancy": v_fancy,
        "take_out": v_take_out,
        "per_row": v_per_row,
    }
    results = {"numpy": np.__version__, "python": sys.version.split()[0], "cold": a.cold}
    skip = 0 if a.cold == "once" else a.warmup
    for name, fn in variants.items():
        if a.cold == "once":
            drop_caches()
        arr = open_rows()
        times = []
        growth = 0.0
        out = None
        for b in range(n):
            if a.cold == "each":
                drop_caches()
            before = cached_mb()
            t0 = time.perf_counter_ns()
            out = fn(arr, b)
            ms = (time.perf_counter_ns() - t0) / 1e6
            if b >= skip:
                times.append(ms)
                growth += cached_mb() - before
        med = float(np.median(times))
        results[name] = {
            "median_ms": med,
            "gbps": batch_bytes / 1e9 / (med / 1000),
            "first_ms": times[0],
            "total_ms": float(sum(times)),
            "page_cache_growth_mb": growth,
            "times": times,
            "checksum": int(out.sum(dtype=np.uint64)),
        }
        del arr, out

    if a.json:
        print(json.dumps(results))
    else:
        print(f"numpy {results['numpy']} memmap, {B} x {S} uint16 per batch, median of {a.batches}"
              f" after {skip} warm-up" + (f", cold={a.cold}" if a.cold else ""))
        for name in variants:
            r = results[name]
            print(f"  {name:<11} {r['median_ms']:8.2f} ms/batch {r['gbps']:6.2f} GB/s  first {r['first_ms']:.1f} ms,"
                  f" total {r['total_ms']:.0f} ms, page cache +{r['page_cache_growth_mb']:.0f} MB")


if __name__ == "__main__":
    main()
