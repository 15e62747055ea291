#!/usr/bin/env python3
"""Builds the small tokenizer.json fixtures in this folder (no network, deterministic).

Usage: make_fixtures.py BYTE_LEVEL_TOKENIZER_JSON CORPUS_JSONL
  BYTE_LEVEL_TOKENIZER_JSON  tests/data/tokenizer/tokenizer.json (GPT-2 style, "a b" merges)
  CORPUS_JSONL               a {"text": ...} per line file, e.g. shared/data/corpus/valid.jsonl

Writes:
  tokenizer-pair-merges.json  same tokenizer, merges as ["a", "b"] pairs
  llama-legacy.json           Mixtral style: Prepend + Replace normalizer, byte_fallback, BOS
  llama-metaspace.json        non-legacy Llama: Metaspace(prepend_scheme first), unk + fuse_unk
  qwen2.json                  NFC + Split(Qwen2 regex) + ByteLevel, extra added-token flags
  deepseek-v3.json            three Splits + ByteLevel, BOS via TemplateProcessing
  llama3-ignore-merges.json   Llama-3 regex, ignore_merges, an entry unreachable by merges
Expected ids come from Hugging Face tokenizers itself: see gen_goldens.js and README.md.
"""
import collections
import json
import sys

SPM_SPACE = "\u2581"

QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
DEEPSEEK_V3_REGEXES = [
    r"\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
]


def added(id_, content, special=True, normalized=False, lstrip=False, rstrip=False, single_word=False):
    return {"id": id_, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": normalized, "special": special}


def split(regex):
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


def byte_level_variant(base, normalizer, pre_tokenizer, added_tokens, post_processor=None):
    tok = json.loads(json.dumps(base))
    tok["normalizer"] = normalizer
    tok["pre_tokenizer"] = pre_tokenizer
    tok["added_tokens"] = added_tokens
    tok["post_processor"] = post_processor or {"type": "ByteLevel", "add_prefix_space": False,
                                               "trim_offsets": False, "use_regex": False}
    tok["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    tok["model"]["merges"] = [m.split(" ", 1) for m in base["model"]["merges"]]
    return tok


def bos_template(token, id_):
    return {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": token, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": [id_], "tokens": [token]}}}


def train_spm_bpe(texts, merge_count):
    """Tiny SentencePiece-like BPE: words start with U+2581, merges never cross words."""
    words = collections.Counter()
    chars = collections.Counter()
    for text in texts:
        for word in text.replace("\n", " ").split(" "):
            if word:
                words[SPM_SPACE + word] += 1
    for word, n in words.items():
        for c in word:
            chars[c] += n
    # Rare characters (and newline/tab, like Llama) are left to byte fallback.
    alphabet = sorted(c for c, n in chars.items() if n >= 3 and c not in "\n\t\r")
    alpha = set(alphabet)
    seqs = {w: [c for c in w] for w in words if all(c in alpha for c in w)}
    merges, vocab_new = [], []
    for _ in range(merge_count):
        pairs = collections.Counter()
        for w, seq in seqs.items():
            for a, b in zip(seq, seq[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        (a, b), _n = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append([a, b])
        vocab_new.append(a + b)
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and seq[i] == a and seq[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = out
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for piece in alphabet + vocab_new:
        vocab.setdefault(piece, len(vocab))
    return vocab, merges


def llama_family(vocab, merges):
    added_tokens = [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")]
    decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": SPM_SPACE}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
             "vocab": vocab, "merges": merges}
    legacy = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens,
              "normalizer": {"type": "Sequence", "normalizers": [
                  {"type": "Prepend", "prepend": SPM_SPACE},
                  {"type": "Replace", "pattern": {"String": " "}, "content": SPM_SPACE}]},
              "pre_tokenizer": None, "model": model, "post_processor": bos_template("<s>", 1),
              "decoder": decoder}
    metaspace = json.loads(json.dumps(legacy))
    metaspace["normalizer"] = None
    metaspace["pre_tokenizer"] = {"type": "Metaspace", "replacement": SPM_SPACE,
                                  "prepend_scheme": "first", "split": False}
    metaspace["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Metaspace", "replacement": SPM_SPACE, "prepend_scheme": "first", "split": False},
        {"type": "ByteFallback"}, {"type": "Fuse"}]}
    # Exercise unk handling here: no byte fallback, consecutive unknown characters fuse.
    metaspace["model"]["byte_fallback"] = False
    return legacy, metaspace


def main():
    base = json.load(open(sys.argv[1], encoding="utf-8"))
    texts = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")][:400]
    n = len(base["model"]["vocab"])

    def write(name, tok):
        with open(name, "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")

    pair = json.loads(json.dumps(base))
    pair["model"]["merges"] = [m.split(" ", 1) for m in base["model"]["merges"]]
    write("tokenizer-pair-merges.json", pair)

    vocab, merges = train_spm_bpe(texts, 600)
    legacy, metaspace = llama_family(vocab, merges)
    write("llama-legacy.json", legacy)
    write("llama-metaspace.json", metaspace)

    qwen_added = [added(n, "<|endoftext|>"), added(n + 1, "<|im_start|>"), added(n + 2, "<|im_end|>"),
                  added(n + 3, "<mask>", lstrip=True, rstrip=True, single_word=True),
                  added(n + 4, "Hello", special=False, normalized=True),
                  added(n + 5, "caf\u00e9", special=False, normalized=True)]
    write("qwen2.json", byte_level_variant(
        base, {"type": "NFC"},
        {"type": "Sequence", "pretokenizers": [
            split(QWEN2_REGEX),
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        qwen_added))

    bos, eos = "<\uff5cbegin\u2581of\u2581sentence\uff5c>", "<\uff5cend\u2581of\u2581sentence\uff5c>"
    write("deepseek-v3.json", byte_level_variant(
        base, {"type": "Sequence", "normalizers": []},
        {"type": "Sequence", "pretokenizers": [split(r) for r in DEEPSEEK_V3_REGEXES] + [
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        [added(n, bos), added(n + 1, eos)], bos_template(bos, n)))

    # Vocab ids stay contiguous (HF gives added tokens ids from the vocab size on, whatever the
    # file says), so the two extra entries come before the added tokens.
    llama3 = byte_level_variant(
        base, None,
        {"type": "Sequence", "pretokenizers": [
            split(LLAMA3_REGEX),
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        [added(n + 2, "<|begin_of_text|>"), added(n + 3, "<|end_of_text|>")],
        bos_template("<|begin_of_text|>", n + 2))
    llama3["model"]["ignore_merges"] = True
    # Whole-word entries no merge sequence produces: only ignore_merges can emit them.
    llama3["model"]["vocab"]["\u0120zzyzx"] = n
    llama3["model"]["vocab"]["qqqq"] = n + 1
    write("llama3-ignore-merges.json", llama3)


if __name__ == "__main__":
    main()
