#!/usr/bin/python3
"""sha256 of every tensor's stored bytes in a Hub model folder, read with the standard library
only (the safetensors header: 8-byte little-endian length, JSON, then the data; docs/formats.md),
so the CLI tests check Switchyard's recorded digests against code that is not Switchyard's.

Usage: tensor_sha256.py MODEL_DIR
Prints one JSON object {tensor name: hex sha256} over every *.safetensors file of the folder.
"""
import hashlib
import json
import os
import struct
import sys


def main():
    folder = sys.argv[1]
    digests = {}
    for file in sorted(f for f in os.listdir(folder) if f.endswith(".safetensors")):
        with open(os.path.join(folder, file), "rb") as f:
            length = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(length))
            data = f.read()
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            digests[name] = hashlib.sha256(data[begin:end]).hexdigest()
    print(json.dumps(digests))


if __name__ == "__main__":
    main()
