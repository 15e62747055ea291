// Computes <fixture>-goldens.json with Hugging Face `tokenizers` (the Rust library through its
// Node binding), so the C++ tests compare against the reference implementation.
//   mkdir -p /tmp/tokref && cd /tmp/tokref && npm init -y && npm install tokenizers
//   NODE_PATH=/tmp/tokref/node_modules node gen_goldens.js CORPUS_JSONL
// Run from this folder. Each golden: {text, add_special_tokens, ids, decoded, decoded_skip}.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const common = [
  'Hello, world!', '  leading and  double  spaces  ', 'tabs\tand\nnewlines\n\n\nend',
  "I'm sure they'll say it's fine, we've done it.", "I'LL SAY IT'S DONE, WE'VE 'S 'T", '3.14159 x 2**10 = 1024',
  '1234567890 12 123 1234 12345', 'café naïve über', 'cafe\u0301 and A\u030a and n\u0303 (decomposed)',
  '中文字符和日本語のテキスト、カタカナ', 'emoji 😀 ok 👍🏽 family 👨‍👩‍👧', '{"key": [1, 2, 3], "nested": {"a": null}}',
  '#include <stdio.h>\nint main(void) { return 0; }', 'def f(x):\r\n    return x\r\n', '', ' ', '\n', '   ', 'a',
  'UPPER lower MiXeD', 'trailing space ', 'ß ẞ İstanbul ﬁ ǅ', 'Ünïcödé ÀÉÎÕÜ', 'tab\t\tx', 'mixed\u00a0nbsp and\u2003em space',
  'zero\u200bwidth', 'punctuation!!! ??? ... --- ;;', 'x = a_b + c-d; // comment', 'http://example.com/path?q=1&r=2',
  'Ⅻ ① ½ ٣ ³', 'Ελληνικά Русский עברית العربية हिन्दी', 'a  b   c    d', 'ends with newline\n', '▁already▁spm',
  '<0x41> literal byte token text', 'a'.repeat(300),
];

const special = {
  'tokenizer-pair-merges.json': ['text<|endoftext|>more text', '<|pad|><|pad|>x<|endoftext|>'],
  'llama-legacy.json': ['<s>hello</s> world', 'a <s> b</s>', '</s>', 'x<unk>y'],
  'llama-metaspace.json': ['<s>hello</s> world', 'a <s> b</s>', '</s>', 'x<unk>y', 'Qué ☃ ☃☃ ƒ'],
  'qwen2.json': ['<|im_start|>user\nHi<|im_end|>\n<|endoftext|>', '<mask> test A<mask> <mask>ony  <mask>  end',
                 'Hello there, HelloWorld, sayHello', 'cafe\u0301 café CAFÉ'],
  'deepseek-v3.json': ['<\uff5cbegin\u2581of\u2581sentence\uff5c>Hi<\uff5cend\u2581of\u2581sentence\uff5c>',
                       'abc123456789def 1234', '日本語テキストとEnglish mixed'],
  'llama3-ignore-merges.json': ['<|begin_of_text|>hi', ' zzyzx qqqq zzyzxx qqqqq', '1234567 12345'],
};

function corpusSamples(path) {
  const perDomain = {};
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const doc = JSON.parse(line);
    perDomain[doc.domain] = perDomain[doc.domain] || [];
    if (perDomain[doc.domain].length < 1) perDomain[doc.domain].push(doc.text.slice(0, 1000));
  }
  return Object.values(perDomain).flat();
}

function hasTemplate(fixture) {
  const spec = JSON.parse(fs.readFileSync(fixture, 'utf8')).post_processor;
  return spec !== null && spec.type === 'TemplateProcessing';
}

async function main() {
  const samples = corpusSamples(process.argv[2]);
  for (const fixture of Object.keys(special)) {
    const tok = Tokenizer.fromFile(fixture);
    const goldens = [];
    // add_special_tokens = true only where the post-processor adds something, on a few texts.
    const withBos = new Set(hasTemplate(fixture) ? ['', 'a', ' ', 'Hello, world!', ...special[fixture]] : []);
    for (const text of [...common, ...special[fixture], ...samples]) {
      for (const add of withBos.has(text) ? [false, true] : [false]) {
        const ids = (await tok.encode(text, null, { addSpecialTokens: add })).getIds();
        goldens.push({ text, add_special_tokens: add, ids, decoded: await tok.decode(ids, false),
                       decoded_skip: await tok.decode(ids, true) });
      }
    }
    const out = fixture.replace('.json', '-goldens.json');
    fs.writeFileSync(out, '[\n' + goldens.map((g) => JSON.stringify(g)).join(',\n') + '\n]\n');
    console.log(out, goldens.length);
  }
}
main();
