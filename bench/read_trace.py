#!/usr/bin/env python3
"""Reads every dataset of a trace once, in the order and block size `switchyard stats` reads
them (65536 tokens, one MoE layer at a time), and discards the data: the "merely read the file"
baseline of bench/analysis_scale.sh. Decompression happens in the HDF5 C library, as for
Switchyard's reader, so the comparison measures the analysis work on top of reading.

Usage: read_trace.py TRACE.h5 [BLOCK_TOKENS]
"""
import sys
import time

import h5py


def main():
    path = sys.argv[1]
    block = int(sys.argv[2]) if len(sys.argv) > 2 else 65536
    start, nbytes = time.time(), 0
    with h5py.File(path, "r", libver="latest", swmr=True) as f:
        n = f["tokens/ids"].shape[0]
        nbytes += f["docs/domain"][:].nbytes + f["docs/source"][:].nbytes + f["meta/token_strings"][:].nbytes
        token_sets = [f[name] for name in ("tokens/ids", "tokens/doc", "tokens/pos", "eval/nll")]
        routing = [f["routing/topk_ids"], f["routing/topk_weights"]]
        layers = routing[0].shape[0]
        for begin in range(0, n, block):
            end = min(n, begin + block)
            for d in token_sets:
                nbytes += d[begin:end].nbytes
            for d in routing:
                for layer in range(layers):
                    nbytes += d[layer, begin:end, :].nbytes
    seconds = time.time() - start
    print("read %d tokens, %.1f MB decompressed in %.2f s" % (n, nbytes / 1e6, seconds))


if __name__ == "__main__":
    main()
