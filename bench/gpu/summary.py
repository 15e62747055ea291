#!/usr/bin/env python3
"""Helpers of device_check.sh (standard library only, so any python3 runs it).

  summary.py --steps STEPS.tsv --out OUT --mode MODE --status ok|failed [--failed STEP] [--manifest F]
      writes OUT/summary.json: status, the failed step, every step's seconds and status, the
      carried Debian packages, and the JSON each step left in OUT (crosscheck, speed, streaming).
  summary.py --check-cache CMakeCache.txt --deps DIR
      fails unless every dependency the carried packages provide was found under DIR.
"""
import argparse
import datetime
import json
import os
import sys

STEP_JSONS = ("crosscheck", "speed", "streaming")

# Cache entries naming what the carried packages provide (CMakeLists.txt's find_package and
# pkg_check_modules; FindHDF5's library search). Each must point under the unpacked folder.
CARRIED_CACHE_KEYS = (
    "HDF5_C_INCLUDE_DIR", "HDF5_hdf5_LIBRARY_RELEASE", "pkgcfg_lib_ICU_UC_icuuc",
    "pkgcfg_lib_ICU_UC_icudata", "pkgcfg_lib_PCRE2_pcre2-8", "GTest_DIR", "nlohmann_json_DIR", "CLI11_DIR",
)


def read_steps(path):
    steps = []
    with open(path) as f:
        for line in f:
            name, status, seconds, detail = (line.rstrip("\n").split("\t") + [""] * 4)[:4]
            steps.append({"name": name, "status": status, "seconds": float(seconds), "detail": detail})
    return steps


def write_summary(a):
    summary = {
        "status": a.status,
        "failed_step": a.failed,
        "mode": a.mode,
        "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "steps": read_steps(a.steps),
        "deps": [],
        "results": {},
    }
    summary["total_seconds"] = round(sum(s["seconds"] for s in summary["steps"]), 1)
    if a.manifest and os.path.exists(a.manifest):
        with open(a.manifest) as f:
            summary["deps"] = [line.strip() for line in f if line.strip()]
    for name in STEP_JSONS:
        path = os.path.join(a.out, name + ".json")
        if os.path.exists(path):
            try:
                with open(path) as f:
                    summary["results"][name] = json.load(f)
            except ValueError as e:
                summary["results"][name] = {"error": f"{path}: not JSON: {e}"}
    tmp = os.path.join(a.out, "summary.json.partial")
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out, "summary.json"))


def read_cache(path):
    cache = {}
    with open(path) as f:
        for line in f:
            if line.startswith(("#", "//")) or "=" not in line or ":" not in line.split("=", 1)[0]:
                continue
            key_type, value = line.rstrip("\n").split("=", 1)
            cache[key_type.split(":", 1)[0]] = value
    return cache


def check_cache(cache_path, deps):
    """Returns the problems: carried dependencies found elsewhere or not at all."""
    cache = read_cache(cache_path)
    deps = os.path.realpath(deps)
    problems = []
    for key in CARRIED_CACHE_KEYS:
        value = cache.get(key)
        if not value or value.endswith("NOTFOUND"):
            problems.append(f"{key}: not found (expected under {deps})")
        elif not os.path.realpath(value).startswith(deps + os.sep):
            problems.append(f"{key}: expected under {deps}, found {value}")
        else:
            print(f"check-cache: {key} = {value}")
    return problems


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps")
    ap.add_argument("--out")
    ap.add_argument("--mode", default="device")
    ap.add_argument("--status")
    ap.add_argument("--failed")
    ap.add_argument("--manifest")
    ap.add_argument("--check-cache")
    ap.add_argument("--deps")
    a = ap.parse_args(argv)
    if a.check_cache:
        problems = check_cache(a.check_cache, a.deps)
        for p in problems:
            print("check-cache: " + p, file=sys.stderr)
        return 1 if problems else 0
    write_summary(a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
