#!/usr/bin/env python3
"""Tests of crosscheck_lib.py (the comparisons hf_crosscheck.py makes on the GPU machine) against
the fixtures' goldens, and, given the built switchyard, of the whole script without
transformers: our CPU f32 traces read back with h5py must agree with the goldens within the
strict bounds for every fixture.

    /usr/bin/python3 bench/gpu/test_crosscheck_lib.py [SWITCHYARD]
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import crosscheck_lib as lib  # noqa: E402
import hf_crosscheck  # noqa: E402

FIXTURES = hf_crosscheck.fixtures()


def goldens(name):
    return lib.read_safetensors(FIXTURES[name][1])[0]


class CompareRouting(unittest.TestCase):
    def setUp(self):
        self.g = lib.golden_routing(goldens("tiny-qwen3-moe"))

    def copy(self):
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.g.items()}

    def test_goldens_match_themselves(self):
        stats = lib.compare_routing(self.g, self.g)
        self.assertEqual(stats["identical_sets"], stats["pairs"])
        self.assertEqual(stats["pairs"], 3 * 128)
        self.assertEqual(stats["max_weight_error"], 0.0)
        self.assertEqual(lib.strict_violations(stats, "tiny-qwen3-moe"), [])

    def test_order_within_the_set_does_not_matter(self):
        ours = self.copy()
        ours["ids"], ours["weights"] = ours["ids"][..., ::-1].copy(), ours["weights"][..., ::-1].copy()
        stats = lib.compare_routing(ours, self.g)
        self.assertEqual(stats["identical_fraction"], 1.0)
        self.assertEqual(stats["max_weight_error"], 0.0)

    def test_weight_bound(self):
        ours = self.copy()
        ours["weights"][1, 7, 2] += 5e-5
        self.assertEqual(lib.strict_violations(lib.compare_routing(ours, self.g), "tiny-qwen3-moe"), [])
        ours["weights"][1, 7, 2] += 2e-4
        stats = lib.compare_routing(ours, self.g)
        self.assertAlmostEqual(stats["max_weight_error"], 2.5e-4, places=6)
        self.assertEqual(len(lib.strict_violations(stats, "tiny-qwen3-moe")), 1)

    def test_a_different_set_is_a_violation_and_its_weights_are_not_compared(self):
        ours = self.copy()
        chosen = set(ours["ids"][0, 5])
        ours["ids"][0, 5, 0] = next(e for e in range(16) if e not in chosen)
        ours["weights"][0, 5, 0] += 1.0
        stats = lib.compare_routing(ours, self.g)
        self.assertEqual(stats["identical_sets"], stats["pairs"] - 1)
        self.assertEqual(stats["max_weight_error"], 0.0)
        self.assertIn("identical top-k sets 383/384", lib.strict_violations(stats, "tiny-qwen3-moe"))

    def test_near_ties_of_the_trained_fixture(self):
        g = lib.golden_routing(goldens("tiny-mixtral"))
        ours = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in g.items()}
        gaps = np.stack([lib._softmax_gap(g["logits"][l], 2) for l in range(4)])
        tie = np.unravel_index(np.argmin(gaps), gaps.shape)      # the closest call
        clear = np.unravel_index(np.argmax(gaps), gaps.shape)
        self.assertLess(gaps[tie], 1e-4)
        for l, n in (tie, clear):
            ours["ids"][l, n, 1] = next(e for e in range(8) if e not in set(ours["ids"][l, n]))
        stats = lib.compare_routing(ours, g, lib.NEAR_TIE_GAP["tiny-mixtral"])
        self.assertEqual(stats["near_tie_mismatches"], 1)
        self.assertEqual(stats["clear_mismatches"], 1)
        self.assertEqual(len(lib.strict_violations(stats, "tiny-mixtral")), 1)

    def test_float16_storage_of_router_logits(self):
        ours = self.copy()
        ours["logits"] = ours["logits"].astype(np.float16).astype(np.float32)
        ours["logits_f16"] = True
        stats = lib.compare_routing(ours, self.g)
        self.assertGreater(stats["max_router_logit_error"], 0.0)
        self.assertEqual(stats["max_router_logit_error_beyond_storage"], 0.0)
        ours["logits"][2, 3, 4] += 0.01
        stats = lib.compare_routing(ours, self.g)
        self.assertGreater(stats["max_router_logit_error_beyond_storage"], 0.009)
        self.assertTrue(any("router logit" in v for v in lib.strict_violations(stats, "tiny-qwen3-moe")))


class Outputs(unittest.TestCase):
    def test_nll_from_logits(self):
        logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]]]))
        nll = lib.nll_from_logits(logits, np.array([[0, 2, 1]]))
        np.testing.assert_allclose(nll, [[np.log(4), np.log(10)]])   # p(2 | 0) = 0.25, p(1 | 2) = 0.1

    def test_trace_rows_need_nan_at_each_window_end(self):
        flat = np.array([1, 2, np.nan, 4, 5, np.nan], dtype=np.float32)
        np.testing.assert_array_equal(lib.trace_nll_rows(flat, 2, 3), [[1, 2], [4, 5]])
        with self.assertRaises(ValueError):
            lib.trace_nll_rows(np.arange(6, dtype=np.float32), 2, 3)

    def test_bf16_bounds(self):
        stats = {"identical_fraction": 0.95, "max_weight_error": 0.2, "mean_router_logit_error": 0.05,
                 "mean_nll_difference": 0.02}
        self.assertEqual(len(lib.bf16_violations(stats, "tiny-qwen3-moe")), 1)      # weight only
        self.assertEqual(len(lib.bf16_violations(stats, "tiny-qwen3-next")), 0)     # recurrent bound 0.45
        self.assertEqual(len(lib.bf16_violations(stats, "tiny-mixtral")), 3)        # sets, weight, NLL


def fake_transformers_model(torch, hidden=16, experts=6, top_k=2, vocab=32, layers=3):
    """A causal LM shaped like transformers 5's MoE models: layer 0 dense, then MoE blocks whose
    router returns (logits, weights, ids) and whose experts module takes (hidden, ids, weights)."""
    nn, F = torch.nn, torch.nn.functional

    class Router(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(experts, hidden))

        def forward(self, x):
            logits = F.linear(x, self.weight)
            weights, ids = torch.topk(torch.softmax(logits.float(), dim=-1), top_k, dim=-1)
            return logits, weights / weights.sum(-1, keepdim=True), ids

    class Experts(nn.Module):
        num_experts = experts

        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.randn(experts, hidden))

        def forward(self, hidden_states, top_k_index, top_k_weights):
            return (self.scale[top_k_index] * top_k_weights[..., None]).sum(1) * hidden_states

    class MoE(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate, self.experts = Router(), Experts()

        def forward(self, x):
            flat = x.reshape(-1, hidden)
            logits, weights, ids = self.gate(flat)
            self.seen = (ids, weights, logits)
            return self.experts(flat, ids, weights).reshape(x.shape)

    class Layer(nn.Module):
        def __init__(self, moe):
            super().__init__()
            self.mlp = MoE() if moe else nn.Linear(hidden, hidden)

        def forward(self, x):
            return x + torch.tanh(self.mlp(x))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden)
            self.layers = nn.ModuleList([Layer(i > 0) for i in range(layers)])
            self.lm_head = nn.Linear(hidden, vocab)
            self.config = type("Config", (), {"to_dict": lambda self: {"num_local_experts": experts}})()

        def forward(self, ids):
            x = self.embed(ids)
            for layer in self.layers:
                x = layer(x)
            return type("Output", (), {"logits": self.lm_head(x)})()

    torch.manual_seed(0)
    return Model().eval()


class TransformersCapture(unittest.TestCase):
    """hf_crosscheck's hooks on a model shaped like transformers': what the MoE blocks used."""

    def test_capture_is_what_each_block_used(self):
        try:
            import torch
        except ImportError:
            self.skipTest("needs torch")
        model = fake_transformers_model(torch)
        ids = np.arange(2 * 5).reshape(2, 5) % 32
        ref = hf_crosscheck.capture_reference(model, ids, "cpu")
        routing = ref["routing"]
        self.assertEqual(routing["moe_layers"], [1, 2])
        self.assertEqual(routing["ids"].shape, (2, 10, 2))
        for slot, layer in enumerate((1, 2)):
            used_ids, used_weights, used_logits = model.layers[layer].mlp.seen
            np.testing.assert_array_equal(routing["ids"][slot], used_ids.numpy())
            np.testing.assert_allclose(routing["weights"][slot], used_weights.detach().numpy())
            np.testing.assert_allclose(routing["logits"][slot], used_logits.detach().numpy())
        self.assertEqual(ref["nll"].shape, (2, 4))
        self.assertEqual(lib.compare_routing(routing, routing)["identical_fraction"], 1.0)


class OursAgainstGoldens(unittest.TestCase):
    def setUp(self):
        if not os.environ.get("SY_SWITCHYARD"):
            self.skipTest("needs the built switchyard (argument)")

    def test_every_fixture_within_strict_bounds(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "crosscheck.json")
            done = subprocess.run([sys.executable, os.path.join(HERE, "hf_crosscheck.py"), "--no-cuda",
                                   "--switchyard", os.environ["SY_SWITCHYARD"], "--work", tmp, "--json", out],
                                  capture_output=True, text=True)
            with open(out) as f:
                report = json.load(f)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(set(report["fixtures"]), set(FIXTURES))
        for name, result in report["fixtures"].items():
            stats = result["comparisons"]["ours cpu f32 vs goldens"]["stats"]
            if name != "tiny-llama":
                self.assertEqual(stats["clear_mismatches"], 0, name)
                self.assertLessEqual(stats["max_weight_error"], 1e-4, name)
                self.assertLessEqual(stats["max_nll_error"], 1e-4, name)
            self.assertLessEqual(abs(stats["mean_nll_difference"]), 1e-4, name)


class TransformersWiring(unittest.TestCase):
    """check_fixture's transformers comparisons, with transformers replaced by the goldens
    (a reference our CPU run must match) and by a loader that fails."""

    def setUp(self):
        if not os.environ.get("SY_SWITCHYARD"):
            self.skipTest("needs the built switchyard (argument)")
        self.saved = hf_crosscheck.hf_reference

    def tearDown(self):
        hf_crosscheck.hf_reference = self.saved

    def run_fixture(self, name, tmp):
        args = type("Args", (), {"switchyard": os.environ["SY_SWITCHYARD"], "work": tmp})()
        model_dir, goldens_path = FIXTURES[name]
        return hf_crosscheck.check_fixture(name, model_dir, goldens_path, args, cuda=False, hf=True)

    def test_goldens_as_transformers(self):
        def from_goldens(_model_dir, input_ids, _device):
            g = goldens("tiny-qwen3-moe")
            routing = dict(lib.golden_routing(g), moe_layers=[int(x) for x in g["moe_layers"]])
            return {"routing": routing, "logits": g["logits"], "nll": lib.nll_from_logits(g["logits"], input_ids)}
        hf_crosscheck.hf_reference = from_goldens
        with tempfile.TemporaryDirectory() as tmp:
            result = self.run_fixture("tiny-qwen3-moe", tmp)
        self.assertNotIn("error", result)
        self.assertEqual(set(result["comparisons"]), {"ours cpu f32 vs goldens", "goldens vs transformers cpu f32",
                                                      "ours cpu f32 vs transformers cpu f32"})
        for label, c in result["comparisons"].items():
            self.assertEqual(c["violations"], [], label)
        self.assertEqual(result["comparisons"]["goldens vs transformers cpu f32"]["stats"]["max_logit_error"], 0.0)

    def test_a_failing_transformers_keeps_the_other_comparisons(self):
        def fails(*_):
            raise RuntimeError("no kernel for this")
        hf_crosscheck.hf_reference = fails
        with tempfile.TemporaryDirectory() as tmp:
            result = self.run_fixture("tiny-olmoe", tmp)
        self.assertIn("transformers cpu: RuntimeError: no kernel for this", result["error"])
        self.assertEqual(list(result["comparisons"]), ["ours cpu f32 vs goldens"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        os.environ["SY_SWITCHYARD"] = sys.argv.pop(1)
    unittest.main(verbosity=2)
