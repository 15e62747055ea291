#!/usr/bin/env python3
"""Rewrites a Switchyard trace the way a user's h5py script does: every dataset copied into a new
file with h5py's defaults (contiguous, the earliest file format), strings as variable-length
UTF-8 `str`, /meta attributes as Python str, int and bool (which h5py stores as an enum).

usage: /usr/bin/python3 rewrite_trace_h5py.py IN.h5 OUT.h5 [--break DATASET_OR_ATTRIBUTE]
  --break /docs/domain       store that dataset as integers instead
  --break meta@top_k         store that /meta attribute as a string instead
"""
import sys

import h5py
import numpy as np


def main():
    src_path, dst_path = sys.argv[1], sys.argv[2]
    broken = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--break" else None
    with h5py.File(src_path, "r") as src, h5py.File(dst_path, "w") as dst:
        def copy(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            data = obj[()]
            if "/" + name == broken:
                dst.create_dataset(name, data=np.arange(len(data), dtype=np.int32))
            elif obj.dtype.kind == "S":
                text = np.array([s.decode("utf-8") for s in data.ravel()], dtype=object).reshape(data.shape)
                dst.create_dataset(name, data=text, dtype=h5py.string_dtype("utf-8"))
            else:
                dst.create_dataset(name, data=data)

        src.visititems(copy)
        for key, value in src["meta"].attrs.items():
            if isinstance(value, (bytes, np.bytes_)):
                value = value.decode("utf-8")
            elif key == "router_logits":
                value = bool(value)
            else:
                value = int(value)
            if broken == "meta@" + key:
                value = str(value)
            dst["meta"].attrs[key] = value


if __name__ == "__main__":
    main()
