// Computes pre-tokenizer-goldens.json with Hugging Face `tokenizers` (the Rust library through
// its Node binding): the pieces each published pre-tokenizer makes of texts holding characters
// added in Unicode 15.0, 15.1 and 16.0 (the version tokenizers 0.23 classifies with) and 17.0
// (still unassigned for it), next to ordinary text.
//   mkdir -p /tmp/tokref && cd /tmp/tokref && npm init -y && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/tokref/node_modules node gen_pre_tokenizer_goldens.js
// Run from this folder.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
const split = (regex) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
const contractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
const pre_tokenizers = {
  // GPT-2 / OLMoE / Mixtral-era byte-level: the regex built into ByteLevel.
  'gpt2': { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  // Llama-3 and GLM-4 (cl100k_base).
  'llama3': { type: 'Sequence', pretokenizers: [split(contractions +
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"), byteLevel] },
  // Qwen2 / Qwen3.
  'qwen2': { type: 'Sequence', pretokenizers: [split(contractions +
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"), byteLevel] },
  // DeepSeek-V3 / R1.
  'deepseek-v3': { type: 'Sequence', pretokenizers: [split('\\p{N}{1,3}'), split('[一-龥぀-ゟ゠-ヿ]+'),
    split("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
    byteLevel] },
  // gpt-oss (o200k_base).
  'gpt-oss': { type: 'Sequence', pretokenizers: [split(
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" + contractions + "?" +
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" + contractions + "?" +
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"), byteLevel] },
  'whitespace': { type: 'Whitespace' },
  'whitespace-split': { type: 'WhitespaceSplit' },
  'punctuation': { type: 'Punctuation', behavior: 'Isolated' },
  'digits': { type: 'Digits', individual_digits: true },
};

// First, middle and last character of each General_Category group newly assigned in a version.
const added = {
  '15.0 L': [0x1123F, 0x31B32, 0x323AF], '15.0 M': [0xCF3, 0x13440, 0x1E4EF], '15.0 N': [0x11F50, 0x1D2CA, 0x1E4F9],
  '15.0 P': [0x11B00, 0x11F44, 0x11F4F], '15.0 S': [0x1F6DC, 0x1FA88, 0x1FAF8, 0x1FA77], '15.0 Cf': [0x13439, 0x1343F],
  '15.1 L': [0x2EBF0, 0x2ED27, 0x2EE5D], '15.1 S': [0x2FFC, 0x2FFE, 0x31EF],
  '16.0 L': [0x1C89, 0x13BFF, 0x1E5F0], '16.0 M': [0x897, 0x113CF, 0x1E5EF], '16.0 N': [0x10D40, 0x16130, 0x1E5FA],
  '16.0 P': [0x1B4E, 0x113D7, 0x1E5FF], '16.0 S': [0x2427, 0x1CD7A, 0x1FBEF],
  '17.0 L': [0x88F, 0x32B68, 0x33479], '17.0 M': [0x1ACF, 0x1AE6, 0x1E6F5], '17.0 N': [0x11DE0, 0x11DE6, 0x16FF6],
  '17.0 P': [0x10ED0], '17.0 S': [0x20C1, 0x1CEC7, 0x1FBFA],
};
// Classes whose meaning differs between engines: NEL, Latin-1 superscripts and fractions,
// joiners, a character whose category changed after Unicode 14 (U+1171E, Mn -> Mc).
const special = [0x85, 0xA0, 0xB2, 0xB9, 0xBD, 0x200C, 0x200D, 0x2E52, 0x1171E, 0x1680, 0x3000];

const texts = ['Hello, world! It\'s 2026 and I\'LL say 12345.', ' leading  double  spaces \t\ttabs\n\n\nend',
               '中文字符和日本語のテキスト、カタカナ', 'def f(x):\r\n    return x ** 2 // 3\n', 'café naïve ² ³ ½ Ⅻ ①'];
for (const [, chars] of Object.entries(added).concat([['special', special]])) {
  for (const c of chars) {
    const ch = String.fromCodePoint(c);
    texts.push(' ' + ch, 'ab' + ch + ch + 'cd 12' + ch + '34', ch + '.' + ch + '\n' + ch, 'X' + ch + 'y ' + ch + ' z');
  }
}

function preTokenizer(spec) {
  return Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: spec,
    post_processor: null, decoder: null, model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' } }))
    .getPreTokenizer();
}

const out = [];
for (const [name, spec] of Object.entries(pre_tokenizers)) {
  const pre = preTokenizer(spec);
  const cases = texts.map((text) => ({ text, pieces: pre.preTokenizeString(text).map(([piece]) => piece) }));
  out.push('{"name": ' + JSON.stringify(name) + ', "pre_tokenizer": ' + JSON.stringify(spec) + ', "cases": [\n' +
           cases.map((c) => JSON.stringify(c)).join(',\n') + ']}');
}
fs.writeFileSync('pre-tokenizer-goldens.json', '[\n' + out.join(',\n') + '\n]\n');
console.log('pre-tokenizer-goldens.json:', Object.keys(pre_tokenizers).length, 'pre-tokenizers x', texts.length, 'texts');
