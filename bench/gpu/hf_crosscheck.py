#!/usr/bin/env python3
"""Fidelity of our forward pass against transformers itself, for every fixture family.

For each fixture (tests/data/models/*/ with goldens.safetensors, and tiny-mixtral of
resources/examples) on the goldens' input ids:
  * ours:  `switchyard trace` (routing, per-token NLL) in f32 on the CPU and, with a GPU, in f32
           and bf16 on CUDA; `switchyard eval` (mean NLL) in f32.
  * transformers: the checkpoint loaded with AutoModelForCausalLM in f32 on the CPU and on CUDA
           (quantized fixtures dequantized on load), top-k ids and gate weights taken where its
           MoE block hands them to its experts module, router logits from its router module,
           logits from its output.
Comparisons, with the bounds of crosscheck_lib.py: ours vs transformers on the same device
(identical top-k sets, gate weights <= 1e-4, NLL <= 1e-4 per token and in the mean), transformers
vs our goldens (the same, plus final logits <= 1e-3), ours bf16 on CUDA vs transformers f32 on
CUDA (the CPU bf16 tests' bounds), ours vs goldens. A mismatch names the comparison that fails:
ours vs transformers and goldens vs transformers tell a bug in our code from one in the goldens.

Without transformers (as on the development machine) only ours-vs-goldens runs and the JSON says
the transformers comparisons were skipped. Exit status: 0 all within bounds, 3 something out of
bounds or a fixture failed to run, 1 a broken run.

usage: hf_crosscheck.py --switchyard BIN [--json OUT.json] [--work DIR] [--fixtures a,b] [--no-cuda]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_lib as lib  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def fixtures(repo=REPO):
    """{name: (model_dir, goldens_path)} of every fixture with goldens, new families included."""
    found = {}
    for goldens in sorted(glob.glob(os.path.join(repo, "tests", "data", "models", "*", "goldens.safetensors"))):
        model_dir = os.path.dirname(goldens)
        if os.path.exists(os.path.join(model_dir, "config.json")):
            found[os.path.basename(model_dir)] = (model_dir, goldens)
    found["tiny-mixtral"] = (os.path.join(repo, "resources", "examples", "tiny-mixtral"),
                             os.path.join(repo, "tests", "data", "models", "tiny-mixtral-goldens", "goldens.safetensors"))
    return found


# ---- ours ------------------------------------------------------------------------------------

def write_ids(path, input_ids):
    with open(path, "w") as f:
        for row in input_ids:
            f.write(json.dumps({"input_ids": [int(x) for x in row]}) + "\n")


def run_trace(switchyard, model_dir, ids_file, shape, device, dtype, out):
    rows, cols = shape
    cmd = [switchyard, "trace", model_dir, "--data", ids_file, "--seq-len", str(cols),
           "--batch-tokens", str(rows * cols), "--device", device, "--dtype", dtype,
           "--router-logits", "-q", "--force", "-o", out]
    subprocess.run(cmd, check=True)
    trace = lib.read_trace(out)
    trace["nll_rows"] = lib.trace_nll_rows(trace["nll"], rows, cols)
    return trace


def run_eval(switchyard, model_dir, ids_file, shape, device, dtype):
    rows, cols = shape
    cmd = [switchyard, "eval", model_dir, "--data", ids_file, "--seq-len", str(cols),
           "--batch-tokens", str(rows * cols), "--device", device, "--dtype", dtype, "--json", "-q"]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return float(json.loads(done.stdout)["all"]["mean_nll"])


# ---- transformers ----------------------------------------------------------------------------

def _load_hf(model_dir, device):
    import torch
    import transformers
    from transformers import AutoConfig

    kwargs = {}
    qc = getattr(AutoConfig.from_pretrained(model_dir), "quantization_config", None)
    if qc:
        # Dequantize on load (FP8 x block scale, MXFP4 blocks x scales), as our goldens do: the
        # quantized kernels would quantize activations too and compare something else.
        qc = qc if isinstance(qc, dict) else qc.to_dict()
        classes = {"fp8": "FineGrainedFP8Config", "mxfp4": "Mxfp4Config"}
        cls = getattr(transformers, classes.get(qc.get("quant_method"), ""), None)
        if cls is None:
            raise RuntimeError(f"no dequantizing config for quant_method {qc.get('quant_method')!r}")
        kwargs["quantization_config"] = cls.from_dict({**qc, "dequantize": True})
    return lib.load_causal_lm(model_dir, torch.float32, **kwargs).to(device)


def _moe_blocks(model):
    """(layer index, MoE block) pairs: modules with an `experts` module and a gate/router."""
    blocks = []
    for name, module in model.named_modules():
        experts = getattr(module, "experts", None)
        router = getattr(module, "gate", None) or getattr(module, "router", None)
        if experts is None or router is None or not hasattr(experts, "forward"):
            continue
        parts = name.split(".")
        layer = next((int(p) for p in reversed(parts) if p.isdigit()), None)
        if layer is not None:
            blocks.append((layer, module))
    return sorted(blocks, key=lambda b: b[0])


def _first_float(output, width):
    items = output if isinstance(output, (tuple, list)) else (output,)
    for t in items:
        if hasattr(t, "is_floating_point") and t.is_floating_point() and t.shape[-1] == width:
            return t
    return None


def hf_reference(model_dir, input_ids, device):
    """transformers' routing (or None for a dense model), logits [B, T, V] and NLL [B, T-1]."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    model = _load_hf(model_dir, device)
    try:
        return capture_reference(model, input_ids, device)
    finally:
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()


def capture_reference(model, input_ids, device):
    """Runs `model` (a transformers causal LM, or anything shaped like one) on input_ids [B, T]
    with hooks on each MoE block's experts and router; see hf_reference."""
    import torch

    captured, hooks = {}, []
    for layer, block in _moe_blocks(model):
        n_experts = getattr(block.experts, "num_experts", None) or model.config.to_dict().get("num_local_experts") \
            or model.config.to_dict().get("num_experts") or model.config.to_dict().get("n_routed_experts")

        def experts_hook(_module, args, kwargs, layer=layer, n_experts=n_experts):
            values = list(args[1:]) + [v for k, v in kwargs.items() if k != "hidden_states"]
            ids = next(v for v in values if hasattr(v, "dtype") and not v.is_floating_point())
            weights = next(v for v in values if hasattr(v, "dtype") and v.is_floating_point())
            ids = ids.reshape(-1, ids.shape[-1])
            weights = weights.reshape(-1, weights.shape[-1])
            if weights.shape[-1] != ids.shape[-1]:   # dense [N, E] scores (gpt-oss in transformers 4)
                weights = torch.gather(weights, 1, ids)
            captured.setdefault(layer, {})["ids"] = ids.detach().cpu().numpy().astype(np.int64)
            captured[layer]["weights"] = weights.detach().float().cpu().numpy()

        def router_hook(_module, _args, output, layer=layer, n_experts=n_experts):
            logits = _first_float(output, n_experts)
            if logits is not None:
                captured.setdefault(layer, {})["logits"] = logits.detach().float().reshape(-1, n_experts).cpu().numpy()

        try:
            hooks.append(block.experts.register_forward_pre_hook(experts_hook, with_kwargs=True))
        except TypeError:   # PyTorch < 2.0 (the development machine's): positional arguments only
            hooks.append(block.experts.register_forward_pre_hook(
                lambda m, args, hook=experts_hook: hook(m, args, {})))
        router = getattr(block, "gate", None) or getattr(block, "router")
        hooks.append(router.register_forward_hook(router_hook))
    with torch.no_grad():
        logits = model(torch.as_tensor(input_ids, device=device)).logits.float().cpu().numpy()
    for h in hooks:
        h.remove()
    routing = None
    if captured:
        layers = sorted(captured)
        missing = [l for l in layers if "ids" not in captured[l]]
        if missing:
            raise RuntimeError(f"transformers: no top-k ids captured in layers {missing}")
        routing = {"ids": np.stack([captured[l]["ids"] for l in layers]),
                   "weights": np.stack([captured[l]["weights"] for l in layers]),
                   "logits": np.stack([captured[l]["logits"] for l in layers]) if all("logits" in captured[l] for l in layers) else None,
                   "logits_f16": False, "moe_layers": layers}
    return {"routing": routing, "logits": logits, "nll": lib.nll_from_logits(logits, input_ids)}


# ---- one fixture -----------------------------------------------------------------------------

def verdict(stats, fixture, bounds, router_logits_count=True):
    if bounds == "bf16":
        return lib.bf16_violations(stats, fixture)
    if not router_logits_count:
        stats = {k: v for k, v in stats.items() if "router_logit" not in k}
    return lib.strict_violations(stats, fixture)


def goldens_vs(goldens, gold_routing, gold_nll, h, gap):
    """Statistics of the goldens against one transformers run (routing, NLL, final logits)."""
    if (h["routing"] is None) != (gold_routing is None):
        raise RuntimeError(f"transformers {'found no' if h['routing'] is None else 'found'} MoE blocks; the goldens disagree")
    if "moe_layers" in goldens and h["routing"]["moe_layers"] != [int(x) for x in goldens["moe_layers"]]:
        raise RuntimeError(f"transformers' MoE layers {h['routing']['moe_layers']}, the goldens' "
                           f"{goldens['moe_layers'].tolist()}")
    stats = lib.compare_run(gold_routing, gold_nll, h["routing"], h["nll"], None, gap)
    if "logits" in goldens:
        stats.update(lib.compare_values(goldens["logits"], h["logits"], "logit"))
    elif "last_logits" in goldens:
        stats.update(lib.compare_values(goldens["last_logits"], h["logits"][:, -1, :], "logit"))
    return stats


def check_fixture(name, model_dir, goldens_path, a, cuda, hf):
    goldens, meta = lib.read_safetensors(goldens_path)
    input_ids = goldens["input_ids"].astype(np.int64)
    shape = input_ids.shape
    gold_routing = lib.golden_routing(goldens)
    gap = lib.NEAR_TIE_GAP.get(name)
    gold_nll = goldens["nll"].astype(np.float64) if "nll" in goldens else (
        lib.nll_from_logits(goldens["logits"], input_ids) if "logits" in goldens else None)
    work = os.path.join(a.work, name)
    os.makedirs(work, exist_ok=True)
    ids_file = os.path.join(work, "ids.jsonl")
    write_ids(ids_file, input_ids)

    ours, hfs, result = {}, {}, {"model_dir": os.path.relpath(model_dir, REPO), "comparisons": {}, "seconds": {}}

    def timed(key, fn):
        start = time.time()
        value = fn()
        result["seconds"][key] = round(time.time() - start, 2)
        return value

    # Traces give routing and per-token NLL; eval's mean NLL is checked once per MoE fixture (f32
    # on the GPU when there is one). Dense fixtures have no routing to trace: eval everywhere.
    configs = [("cpu", "f32")] + ([("cuda", "f32"), ("cuda", "bf16")] if cuda else [])
    eval_config = ("cuda" if cuda else "cpu", "f32")
    for device, dtype in configs:
        if gold_routing is not None:
            ours[device, dtype] = timed(f"ours trace {device} {dtype}", lambda: run_trace(
                a.switchyard, model_dir, ids_file, shape, device, dtype, os.path.join(work, f"{device}-{dtype}.h5")))
        else:
            ours[device, dtype] = {"routing": None, "nll_rows": None}
        if gold_routing is None or (device, dtype) == eval_config:
            ours[device, dtype]["mean_nll"] = timed(f"ours eval {device} {dtype}", lambda: run_eval(
                a.switchyard, model_dir, ids_file, shape, device, dtype))

    def add(label, stats, bounds, router_logits_count=True):
        result["comparisons"][label] = {"stats": stats, "bounds": bounds,
                                        "violations": verdict(stats, name, bounds, router_logits_count)}

    def compare(o, ref_routing, ref_nll, bounds):
        stats = lib.compare_run(o["routing"], o["nll_rows"], ref_routing, ref_nll, name, gap if bounds == "strict" else None)
        if ref_nll is not None and "mean_nll" in o:   # eval's mean over the same tokens
            stats["mean_nll"] = o["mean_nll"]
            stats["mean_nll_difference"] = o["mean_nll"] - float(np.mean(ref_nll))
        return stats

    for device, dtype in configs:
        bounds = "strict" if dtype == "f32" else "bf16"
        add(f"ours {device} {dtype} vs goldens", compare(ours[device, dtype], gold_routing, gold_nll, bounds), bounds)
    if hf:   # a transformers failure on one device is reported beside the other comparisons
        errors = []
        for device in sorted({d for d, _ in configs}):
            try:
                hfs[device] = timed(f"transformers {device} f32", lambda: hf_reference(model_dir, input_ids, device))
                add(f"goldens vs transformers {device} f32", goldens_vs(goldens, gold_routing, gold_nll, hfs[device], gap),
                    "strict", router_logits_count=False)
            except Exception as e:  # noqa: BLE001 - recorded in the JSON and the exit status
                traceback.print_exc()
                errors.append(f"transformers {device}: {type(e).__name__}: {e}")
                hfs.pop(device, None)
        for device, dtype in configs:
            if device in hfs:
                bounds = "strict" if dtype == "f32" else "bf16"
                h = hfs[device]
                add(f"ours {device} {dtype} vs transformers {device} f32",
                    compare(ours[device, dtype], h["routing"], h["nll"], bounds), bounds, router_logits_count=False)
        if errors:
            result["error"] = "; ".join(errors)
    return result


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--switchyard", required=True, help="the built switchyard binary")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--work", default="/tmp/switchyard-crosscheck", help="scratch folder for traces")
    ap.add_argument("--fixtures", help="comma-separated subset of fixture names")
    ap.add_argument("--no-cuda", action="store_true", help="CPU comparisons only")
    a = ap.parse_args(argv)

    try:
        import torch
        cuda = torch.cuda.is_available() and not a.no_cuda
    except ImportError:
        cuda = False
    version = lib.transformers_version()
    message = None
    if version is None:
        message = ("transformers is not installed: comparisons against transformers skipped; "
                   "ours against our goldens only")
        print("hf_crosscheck: " + message)
    names = fixtures()
    if a.fixtures:
        unknown = set(a.fixtures.split(",")) - set(names)
        if unknown:
            print(f"hf_crosscheck: unknown fixtures {sorted(unknown)}; known: {sorted(names)}", file=sys.stderr)
            return 1
        names = {k: v for k, v in names.items() if k in a.fixtures.split(",")}

    report = {"transformers": version, "cuda": cuda, "message": message, "fixtures": {}}
    bad = []
    for name, (model_dir, goldens) in names.items():
        try:
            result = check_fixture(name, model_dir, goldens, a, cuda, version is not None)
        except Exception as e:  # one fixture's failure must not hide the others' results
            traceback.print_exc()
            result = {"error": f"{type(e).__name__}: {e}"}
        report["fixtures"][name] = result
        problems = [f"{label}: {v}" for label, c in result.get("comparisons", {}).items() for v in c["violations"]]
        if "error" in result:
            problems.append(result["error"])
        print(f"hf_crosscheck: {name}: " + ("ok" if not problems else "; ".join(problems)))
        for label, c in result.get("comparisons", {}).items():
            s = c["stats"]
            shown = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in s.items())
            print(f"    {label}: {shown}")
        if problems:
            bad.append(name)
    report["status"] = "pass" if not bad else "mismatch"
    report["out_of_bounds"] = bad
    if a.json:
        with open(a.json + ".partial", "w") as f:
            json.dump(report, f, indent=2, default=lambda x: None)
        os.replace(a.json + ".partial", a.json)
    print(f"hf_crosscheck: {len(names) - len(bad)}/{len(names)} fixtures within bounds"
          + (f"; out of bounds: {', '.join(bad)}" if bad else ""))
    return 3 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
