"""The parts of hf_crosscheck.py that need neither transformers nor a GPU: reading goldens and
traces, turning logits into per-token NLL, and comparing two routings / two outputs against
bounds. numpy only (plus h5py for traces), so Debian's /usr/bin/python3 runs them and
test_crosscheck_lib.py tests them against the fixtures' goldens and our own CPU traces.

A "routing" is a dict of numpy arrays over MoE layers and tokens (token n = row n // T,
position n % T of the input ids, the goldens' and the trace's order):
    ids      [Lm, N, k] int64   chosen experts (any order: sets are compared)
    weights  [Lm, N, k] float32 final gate weights, aligned with ids
    logits   [Lm, N, E] float32 raw router logits, or None
    logits_f16  True when logits were stored as float16 (trace --router-logits)
"""
import json
import math
import struct

import numpy as np

# Bounds of the f32 comparisons (the contract; tests/compute/forward_golden_test.cpp).
STRICT = {
    "identical_sets": 1.0,       # fraction of (layer, token) pairs with the same top-k set
    "weight": 1e-4,              # gate weights, over identical sets
    "router_logit": 1e-3,        # raw router logits (f32); float16 storage adds |x| * 2^-11
    "logit": 1e-3,               # final logits
    "nll": 1e-4,                 # per-token NLL and mean NLL
}
# tiny-mixtral is trained and has genuine near-ties: a set may differ only where the reference's
# k-th and (k+1)-th router probabilities are within this gap (forward_golden_test.cpp).
NEAR_TIE_GAP = {"tiny-mixtral": 1e-4}
NEAR_TIE_FRACTION = 0.999

# bf16 compute against f32, the bounds of the CPU bf16 tests (forward_golden_test.cpp, kBf16).
BF16 = {
    "identical_sets_trained": 0.99, "identical_sets_random": 0.90,
    "weight": 0.15, "weight_recurrent": 0.45, "mean_router_logit": 0.12, "mean_nll": 0.01,
}
TRAINED = ("tiny-mixtral", "tiny-llama")
RECURRENT = ("tiny-qwen3-next",)

_DTYPES = {"F32": np.float32, "I64": np.int64, "F16": np.float16, "I32": np.int32}


def read_safetensors(path):
    """{name: array} and the metadata of a safetensors file (F32/I64/F16/I32/BF16 tensors)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=_DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).copy()
    return out, meta


def golden_routing(goldens):
    """The routing held by a goldens file, or None for a dense fixture."""
    if "topk_ids" not in goldens:
        return None
    return {"ids": goldens["topk_ids"].astype(np.int64), "weights": goldens["topk_weights"].astype(np.float32),
            "logits": goldens["router_logits"].astype(np.float32), "logits_f16": False}


def read_trace(path):
    """Routing and per-token NLL of a `switchyard trace` file (docs/hdf5-schema.md)."""
    import h5py

    with h5py.File(path, "r") as f:
        n = f["tokens/ids"].shape[0]
        routing = {
            "ids": f["routing/topk_ids"][:, :n, :].astype(np.int64),
            "weights": f["routing/topk_weights"][:, :n, :].astype(np.float32),
            "logits": f["routing/router_logits"][:, :n, :].astype(np.float32) if "routing/router_logits" in f else None,
            "logits_f16": True,
        }
        return {
            "routing": routing,
            "moe_layers": f["meta/moe_layers"][:].astype(np.int64),
            "token_ids": f["tokens/ids"][:n].astype(np.int64),
            "nll": f["eval/nll"][:n].astype(np.float32),
            "dtype": f["meta"].attrs["dtype"].decode() if isinstance(f["meta"].attrs["dtype"], bytes) else str(f["meta"].attrs["dtype"]),
        }


def nll_from_logits(logits, input_ids):
    """Per-token NLL [B, T-1] (float64) of next-token prediction from logits [B, T, V]."""
    x = logits[:, :-1, :].astype(np.float64)
    top = x.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(x - top).sum(axis=-1)) + top[..., 0]
    target = np.take_along_axis(x, input_ids[:, 1:, None], axis=-1)[..., 0]
    return lse - target


def trace_nll_rows(trace_nll, rows, cols):
    """A trace's /eval/nll [N] as [B, T-1]: each row is one window whose last token has no target."""
    grid = trace_nll.reshape(rows, cols)
    if not np.all(np.isnan(grid[:, -1])):
        raise ValueError("trace NLL: expected NaN at the last token of each window (one window per row)")
    return grid[:, :-1]


def _softmax_gap(logits, k):
    """Gap between the k-th and (k+1)-th largest softmax probability, per token; logits [N, E]."""
    x = logits.astype(np.float64)
    p = np.exp(x - x.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    p = -np.sort(-p, axis=-1)
    return p[:, k - 1] - p[:, k] if k < p.shape[1] else np.ones(p.shape[0])


def compare_routing(ours, ref, gap_threshold=None):
    """Statistics of `ours` against `ref` (routings, module docstring). Gate weights are compared
    by expert id over tokens whose sets agree; near-ties are pairs whose set differs where the
    reference's k/k+1 probability gap is within gap_threshold."""
    if ours["ids"].shape != ref["ids"].shape:
        raise ValueError(f"routing shapes differ: ours {ours['ids'].shape}, reference {ref['ids'].shape}")
    layers, n, k = ref["ids"].shape
    a, b = np.sort(ours["ids"], axis=-1), np.sort(ref["ids"], axis=-1)
    same = np.all(a == b, axis=-1)                                    # [Lm, N]
    # weights by expert id: order each side's weights by its ids, then compare over same sets
    wa = np.take_along_axis(ours["weights"], np.argsort(ours["ids"], axis=-1), axis=-1)
    wb = np.take_along_axis(ref["weights"], np.argsort(ref["ids"], axis=-1), axis=-1)
    weight_err = np.abs(wa - wb)[same]
    stats = {
        "pairs": int(layers * n),
        "identical_sets": int(same.sum()),
        "identical_fraction": float(same.mean()),
        "max_weight_error": float(weight_err.max()) if weight_err.size else 0.0,
        "near_tie_mismatches": 0,
        "clear_mismatches": int((~same).sum()),
    }
    if gap_threshold is not None and ref.get("logits") is not None:
        gaps = np.stack([_softmax_gap(ref["logits"][l], k) for l in range(layers)])
        stats["near_tie_mismatches"] = int(((~same) & (gaps <= gap_threshold)).sum())
        stats["clear_mismatches"] = int(((~same) & (gaps > gap_threshold)).sum())
    if ours.get("logits") is not None and ref.get("logits") is not None:
        x, y = ours["logits"], ref["logits"][..., : ours["logits"].shape[-1]]
        valid = ~np.isnan(x)
        err = np.abs(x - y)[valid]
        # float16 storage: round-to-nearest adds up to half an ulp, |y| * 2^-11
        excess = (np.abs(x - y) - (np.abs(y) * 2.0 ** -11 if ours.get("logits_f16") else 0.0))[valid]
        stats["max_router_logit_error"] = float(err.max()) if err.size else 0.0
        stats["mean_router_logit_error"] = float(err.mean()) if err.size else 0.0
        stats["max_router_logit_error_beyond_storage"] = float(max(excess.max(), 0.0)) if excess.size else 0.0
    return stats


def compare_values(ours, ref, name):
    """Max and mean absolute difference of two float arrays, NaNs where either is NaN skipped."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        raise ValueError(f"{name}: shapes differ: ours {ours.shape}, reference {ref.shape}")
    valid = ~(np.isnan(ours) | np.isnan(ref))
    err = np.abs(ours - ref)[valid]
    return {f"max_{name}_error": float(err.max()) if err.size else 0.0,
            f"mean_{name}_error": float(err.mean()) if err.size else 0.0}


def strict_violations(stats, fixture):
    """Violations of the f32 bounds, as sentences (empty when within bounds)."""
    out = []
    if "identical_fraction" in stats:
        if fixture in NEAR_TIE_GAP:
            if stats["clear_mismatches"]:
                out.append(f"{stats['clear_mismatches']} top-k sets differ where the router gap exceeds {NEAR_TIE_GAP[fixture]}")
            if stats["identical_fraction"] < NEAR_TIE_FRACTION:
                out.append(f"identical top-k sets {stats['identical_fraction']:.4f} < {NEAR_TIE_FRACTION}")
        elif stats["identical_fraction"] < STRICT["identical_sets"]:
            out.append(f"identical top-k sets {stats['identical_sets']}/{stats['pairs']}")
        if stats["max_weight_error"] > STRICT["weight"]:
            out.append(f"gate weight error {stats['max_weight_error']:.3g} > {STRICT['weight']}")
    key = "max_router_logit_error_beyond_storage" if "max_router_logit_error_beyond_storage" in stats else "max_router_logit_error"
    if stats.get(key, 0.0) > STRICT["router_logit"]:
        out.append(f"router logit error {stats[key]:.3g} > {STRICT['router_logit']}")
    if stats.get("max_logit_error", 0.0) > STRICT["logit"]:
        out.append(f"logit error {stats['max_logit_error']:.3g} > {STRICT['logit']}")
    for key in ("max_nll_error", "mean_nll_difference"):
        if abs(stats.get(key, 0.0)) > STRICT["nll"]:
            out.append(f"{key.replace('_', ' ')} {stats[key]:.3g} > {STRICT['nll']}")
    return out


def bf16_violations(stats, fixture):
    """Violations of the bf16-against-f32 bounds (kBf16 of forward_golden_test.cpp)."""
    out = []
    if "identical_fraction" in stats:
        need = BF16["identical_sets_trained"] if fixture in TRAINED else BF16["identical_sets_random"]
        if stats["identical_fraction"] < need:
            out.append(f"identical top-k sets {stats['identical_fraction']:.4f} < {need}")
        bound = BF16["weight_recurrent"] if fixture in RECURRENT else BF16["weight"]
        if stats["max_weight_error"] > bound:
            out.append(f"gate weight error {stats['max_weight_error']:.3g} > {bound}")
    if stats.get("mean_router_logit_error", 0.0) > BF16["mean_router_logit"]:
        out.append(f"mean router logit error {stats['mean_router_logit_error']:.3g} > {BF16['mean_router_logit']}")
    if fixture in TRAINED and abs(stats.get("mean_nll_difference", 0.0)) > BF16["mean_nll"]:
        out.append(f"mean NLL difference {stats['mean_nll_difference']:.3g} > {BF16['mean_nll']}")
    return out


def compare_run(ours_routing, ours_nll, ref_routing, ref_nll, fixture, gap_threshold=None):
    """One comparison's statistics: routing (when the model has MoE layers) and per-token NLL
    ([B, T-1] each; means over all tokens with a target)."""
    stats = {}
    if ref_routing is not None:
        stats.update(compare_routing(ours_routing, ref_routing, gap_threshold))
    if ours_nll is not None and ref_nll is not None:
        stats.update(compare_values(ours_nll, ref_nll, "nll"))
        stats["mean_nll"] = float(np.nanmean(ours_nll))
        stats["mean_nll_difference"] = float(np.nanmean(ours_nll) - np.nanmean(ref_nll))
    return stats


def finite_or_none(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def transformers_version():
    """transformers' version, or None when it is not installed."""
    try:
        import transformers
        return transformers.__version__
    except ImportError:
        return None


def load_causal_lm(model_dir, dtype, **kwargs):
    """AutoModelForCausalLM.from_pretrained in `dtype` (transformers 5 says dtype=, 4 torch_dtype=)."""
    from transformers import AutoModelForCausalLM
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, **kwargs)
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=dtype, **kwargs)
    return model.eval()
