#!/usr/bin/python3
"""Helpers for bench/load_bench.sh. Standard library only.

  plain-read FILE...      read the files once to warm the page cache, then time a second
                          sequential read in 16 MiB preads (warm); then evict and time a third
                          (cold, the disk); then write twice the files' bytes (an f32 load's
                          output) into fresh anonymous memory and again into the same memory;
                          prints JSON {bytes, warm_gb_per_s, cold_gb_per_s,
                          fresh_write_gb_per_s, warm_write_gb_per_s}
  evict FILE...           drop the files from the page cache
  warm FILE...            read the files into the page cache
  timed OUT.json -- CMD   runs CMD, timestamps every line it prints (stdout and stderr) that is
                          a JSON progress object, and writes JSON {wall_s, user_s, sys_s,
                          max_rss_bytes, rc, points: [[t, tokens], ...]}: `switchyard --progress
                          json` lines ({"done": tokens}) and torch_reference.py events
                          ({"event": "batch", "tokens": n}); t in seconds since the start
  summary RUN.json        JSON {first_s: time to the first finished batch, first_tokens,
                          marginal_tok_s: tokens after the first batch / their time,
                          first_batch_s, later_batch_s: mean of the later batches}
"""
import json, mmap, os, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_bench import evict, read_all  # noqa: E402  (16 MiB preads; posix_fadvise DONTNEED)

CHUNK = 16 << 20


def first_touch(nbytes):
    """GB/s of writing nbytes into fresh anonymous memory (the kernel zeroes each page on its
    first touch) and of writing them again (warm), 16 MiB memcpys into one mapping."""
    src = bytes(CHUNK)
    m = mmap.mmap(-1, nbytes)
    rates = []
    for _ in range(2):
        m.seek(0)
        start = time.monotonic()
        for offset in range(0, nbytes - CHUNK + 1, CHUNK):
            m.write(src)
        rates.append(nbytes / (time.monotonic() - start) / 1e9)
    m.close()
    return rates


def plain_read(paths):
    read_all(paths)
    total, warm = read_all(paths)
    evict(paths)
    _, cold = read_all(paths)
    fresh, rewrite = first_touch(2 * total // CHUNK * CHUNK)   # what an f32 load of BF16 writes
    print(json.dumps({"bytes": total, "warm_gb_per_s": total / warm / 1e9, "cold_gb_per_s": total / cold / 1e9,
                      "fresh_write_gb_per_s": fresh, "warm_write_gb_per_s": rewrite}))


def timed(out, cmd):
    points, lock = [], threading.Lock()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def watch(stream, echo):
        for line in stream:
            t = time.monotonic() - start
            try:
                obj = json.loads(line)
            except ValueError:
                echo.write(line)
                continue
            if not isinstance(obj, dict):
                continue
            tokens = obj.get("done") if "done" in obj else obj.get("tokens") if obj.get("event") == "batch" else None
            if isinstance(tokens, int) and tokens > 0:
                with lock:
                    points.append([obj.get("t", t) if "event" in obj else t, tokens])

    threads = [threading.Thread(target=watch, args=(proc.stdout, sys.stdout)),
               threading.Thread(target=watch, args=(proc.stderr, sys.stderr))]
    for th in threads:
        th.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    for th in threads:
        th.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    points.sort()
    # progress may report the same count twice (a stage's end); keep the first time of each count
    seen, unique = set(), []
    for t, n in points:
        if n not in seen:
            seen.add(n)
            unique.append([t, n])
    result = {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
              "max_rss_bytes": usage.ru_maxrss * 1024, "rc": proc.returncode, "points": unique}
    with open(out, "w") as f:
        json.dump(result, f)
    return proc.returncode


def summary(path):
    with open(path) as f:
        run = json.load(f)
    pts = run["points"]
    if not pts:
        sys.exit(f"{path}: no batch finished")
    first_t, first_n = pts[0]
    out = {"first_s": first_t, "first_tokens": first_n, "wall_s": run["wall_s"],
           "cpu_s": run["user_s"] + run["sys_s"], "tokens": pts[-1][1]}
    if len(pts) > 1:
        last_t, last_n = pts[-1]
        out["marginal_tok_s"] = (last_n - first_n) / (last_t - first_t)
        out["later_batch_s"] = (last_t - first_t) / (len(pts) - 1)
    print(json.dumps(out))


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "plain-read":
        plain_read(args)
    elif cmd == "evict":
        evict(args)
    elif cmd == "warm":
        read_all(args)
    elif cmd == "timed":
        return timed(args[0], args[args.index("--") + 1:])
    elif cmd == "summary":
        summary(args[0])
    else:
        sys.exit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
