// Computes unicode-classes-goldens.json with Hugging Face `tokenizers` (the Rust library through
// its Node binding): for every character class the pre-tokenizers use, the exact set of code
// points it matches, so the C++ tests can compare all 1,112,064 of them.
//   mkdir -p /tmp/tokref && cd /tmp/tokref && npm init -y && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/tokref/node_modules node gen_unicode_goldens.js
// Run from this folder.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

// Split regexes, one character each: \p{...} by category group, category, script; escapes;
// classes with negations as the published pre-tokenizers write them.
const regexes = [
  '\\p{L}', '\\p{M}', '\\p{N}', '\\p{P}', '\\p{S}', '\\p{Z}', '\\p{C}',
  '\\p{Lu}', '\\p{Ll}', '\\p{Lt}', '\\p{Lm}', '\\p{Lo}', '\\p{Mn}', '\\p{Mc}', '\\p{Me}', '\\p{Nd}', '\\p{Nl}',
  '\\p{No}', '\\p{Pc}', '\\p{Pd}', '\\p{Ps}', '\\p{Pe}', '\\p{Pi}', '\\p{Pf}', '\\p{Po}', '\\p{Sm}', '\\p{Sc}',
  '\\p{Sk}', '\\p{So}', '\\p{Zs}', '\\p{Zl}', '\\p{Zp}', '\\p{Cc}', '\\p{Cf}', '\\p{Co}', '\\p{Cn}',
  '\\p{Letter}', '\\p{Uppercase_Letter}', '\\p{Han}', '\\p{Hiragana}', '\\p{Katakana}', '\\p{Hangul}',
  '\\p{Latin}', '\\p{Cyrillic}', '\\p{Arabic}', '\\p{Common}', '\\p{Inherited}',
  '\\s', '\\S', '\\d', '\\D', '\\w', '\\W', '\\h', '\\pL', '\\PL', '\\P{N}', '\\p{^N}',
  '[^\\s\\p{L}\\p{N}]', '[^\\r\\n\\p{L}\\p{N}]', '[^\\r\\n\\p{L}\\p{P}\\p{S}]', '[\\p{L}\\p{M}]', '[\\p{P}\\p{S}]',
  '[\\P{L}\\d]', '[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]', '[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]', '[^\\S\\n]',
];

function preTokenizer(spec) {
  const tokenizer = Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: spec,
    post_processor: null, decoder: null, model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' } }));
  return tokenizer.getPreTokenizer();
}

const all = [];
for (let c = 0; c < 0x110000; c++) if (c < 0xd800 || c > 0xdfff) all.push(c);
const chunk = 1 << 15;

function toRanges(isMember) {
  const ranges = [];
  for (const c of all) {
    if (!isMember(c)) continue;
    const last = ranges[ranges.length - 1];
    if (last && (last[1] === c - 1 || (last[1] === 0xd7ff && c === 0xe000))) last[1] = c;
    else ranges.push([c, c]);
  }
  return ranges;
}

// Code points a single-character Split regex matches: with behavior Removed, what is left of
// the text of every code point is exactly the code points it does not match.
function splitMatches(regex) {
  const pre = preTokenizer({ type: 'Split', pattern: { Regex: regex }, behavior: 'Removed', invert: false });
  const kept = new Set();
  for (let i = 0; i < all.length; i += chunk) {
    const text = String.fromCodePoint(...all.slice(i, i + chunk));
    for (const [piece] of pre.preTokenizeString(text)) for (const ch of piece) kept.add(ch.codePointAt(0));
  }
  return toRanges((c) => !kept.has(c));
}

// The pieces of "a<c>a" for every code point c, for the pre-tokenizers that are not regexes.
function piecesInContext(spec) {
  const pre = preTokenizer(spec);
  const pieces = new Map();
  for (let i = 0; i < all.length; i += chunk) {
    const group = all.slice(i, i + chunk);
    for (const c of group) pieces.set(c, pre.preTokenizeString('a' + String.fromCodePoint(c) + 'a').length);
  }
  return pieces;
}

const goldens = { tokenizers: require('tokenizers/package.json').version, splits: [], pre_tokenizers: [] };
for (const regex of regexes) goldens.splits.push({ regex, matches: splitMatches(regex) });
const whitespace = piecesInContext({ type: 'Whitespace' });   // 1 piece: word char, 2: space, 3: other
goldens.pre_tokenizers.push({ type: 'Whitespace', role: 'word', matches: toRanges((c) => whitespace.get(c) === 1) });
goldens.pre_tokenizers.push({ type: 'Whitespace', role: 'space', matches: toRanges((c) => whitespace.get(c) === 2) });
const split = piecesInContext({ type: 'WhitespaceSplit' });
goldens.pre_tokenizers.push({ type: 'WhitespaceSplit', role: 'space', matches: toRanges((c) => split.get(c) === 2) });
const punctuation = piecesInContext({ type: 'Punctuation', behavior: 'Isolated' });
goldens.pre_tokenizers.push({ type: 'Punctuation', role: 'punctuation', matches: toRanges((c) => punctuation.get(c) === 3) });
const digits = piecesInContext({ type: 'Digits', individual_digits: true });
goldens.pre_tokenizers.push({ type: 'Digits', role: 'digit', matches: toRanges((c) => digits.get(c) === 3) });

const line = (o) => JSON.stringify(o);
fs.writeFileSync('unicode-classes-goldens.json',
  '{"tokenizers": ' + line(goldens.tokenizers) + ',\n"splits": [\n' + goldens.splits.map(line).join(',\n') +
  '\n],\n"pre_tokenizers": [\n' + goldens.pre_tokenizers.map(line).join(',\n') + '\n]}\n');
console.log('unicode-classes-goldens.json', goldens.splits.length, 'regexes,', goldens.pre_tokenizers.length, 'pre-tokenizer classes');
