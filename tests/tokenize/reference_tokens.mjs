#!/usr/bin/env node
// Reference token ids from the npm package gpt-tokenizer, for tests/tokenize.
//
//   node tests/tokenize/reference_tokens.mjs fixed <package-dir>
//       prints the C++ table pasted into reference_test.cc (kFixedCases)
//   node tests/tokenize/reference_tokens.mjs random <package-dir> <seed> <count>
//       prints <count> generated strings per encoding, one per line:
//       <encoding> TAB <hex of the UTF-8 text> TAB <comma-separated ids>
//
// <package-dir> is <build>/npm/node_modules/gpt-tokenizer (installed by the build).
// Text is encoded as ordinary text: special-token strings are not recognised.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const [mode, packageDirArg, seedArg, countArg] = process.argv.slice(2);
if (!['fixed', 'random'].includes(mode) || !packageDirArg) {
  console.error('usage: reference_tokens.mjs fixed|random <package-dir> [seed count]');
  process.exit(2);
}
const packageDir = resolve(packageDirArg);
const require = createRequire(join(packageDir, 'package.json'));
const ENCODINGS = {
  o200k_base: require(join(packageDir, 'cjs/encoding/o200k_base.js')),
  cl100k_base: require(join(packageDir, 'cjs/encoding/cl100k_base.js')),
};
const encode = (encoding, text) =>
  ENCODINGS[encoding].encode(text, { disallowedSpecial: new Set() });

// The fixed cases: keep in sync with nothing else; the printed table is the source of truth.
const FIXED = [
  ['python', 'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n'],
  ['cpp', "for (int i = 0; i < 10; ++i) {\n\tstd::cout << i << '\\n';\n}"],
  ['json_url', '{"url": "https://example.com/a/b?c=d&e=f", "n": [1, 2, 3]}'],
  ['cjk', '你好，世界！今天天气很好。日本語のテキストも少し。한국어 문장도 있습니다.'],
  ['emoji', 'I love 🦀 and 👩‍👩‍👧‍👦 families! 🎉🎉🎉 👍🏽'],
  ['whitespace', 'a  b   c\t\t d\n\n\n  e    \n \r\n   x\u00a0\u00a0y\u3000z   '],
  ['numbers', '1234567890 3.14159 -42 1,000,000 2024-06-01 0x1F 1e10 ٣٤٥'],
  ['contractions', "I'm sure you'll see they've done it; don't WON'T She'S it'd we're Y'ALL"],
  ['scripts', 'Hello, world! Ünïcödé façade — naïve café; Привет мир; مرحبا بالعالم; γειά σου; नमस्ते'],
  ['camel', "HTTPServerError parseJSONResponse XMLHttpRequest iPhone McDonald's"],
  ['special_text', '<|endoftext|> is plain text here <|im_start|>user'],
  ['combining', 'e\u0301le\u0300ve Z\u0351\u0362a\u0355l\u0318g\u0320o'],
];

function cppString(text) {
  let out = '"';
  let lastWasHex = false;
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (byte === 0x22 || byte === 0x5c) {
      out += '\\' + c;
      lastWasHex = false;
    } else if (byte === 0x0a) {
      out += '\\n';
      lastWasHex = false;
    } else if (byte === 0x09) {
      out += '\\t';
      lastWasHex = false;
    } else if (byte === 0x0d) {
      out += '\\r';
      lastWasHex = false;
    } else if (byte >= 0x20 && byte < 0x7f) {
      // A hex escape would swallow a following hex digit: split the literal.
      if (lastWasHex && /[0-9a-fA-F]/.test(c)) out += '" "';
      out += c;
      lastWasHex = false;
    } else {
      out += '\\x' + byte.toString(16).padStart(2, '0');
      lastWasHex = true;
    }
  }
  return out + '"';
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Fragments for generated text. Left out on purpose, because gpt-tokenizer (JavaScript
// regex) and tiktoken (which Switchyard follows) disagree on them: U+FEFF (JS \s only),
// U+0085 (Unicode White_Space, not JS \s), U+017F after an apostrophe (case folding).
const FRAGMENTS = [
  'the', 'The', 'THE', 'hello', 'World', 'tokenizer', 'Switchyard', 'gateway', 'x', 'I',
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'Re", "'", '"',
  ' ', ' ', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n', '\u00a0', '\u3000', '\u2003', '\u2028',
  '0', '7', '42', '123', '2024', '3.14', '1,000', '-1', '١٢٣',
  '.', ',', '!', '?', ';', ':', '...', '--', '->', '=>', '()', '{}', '[]', '/', '//', '#', '@',
  '$', '%', '&&', '||', '<|endoftext|>', '```', '\\', '_', '__init__',
  '你好', '世界', '日本語', 'テキスト', '한국어', 'Привет', 'мир', 'مرحبا', 'γειά', 'नमस्ते', 'ไทย',
  'é', 'ü', 'ñ', 'ß', 'Ω', 'e\u0301', '\u0301',
  '🦀', '🎉', '👍🏽', '👩‍👩‍👧‍👦', '🇫🇷', '❤️', '😀',
  'camelCase', 'HTTPServer', 'snake_case', 'kebab-case', 'https://example.com/path?q=1',
];

function generate(random) {
  const parts = 1 + Math.floor(random() * 40);
  let text = '';
  for (let i = 0; i < parts; ++i) text += FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
  return text;
}

if (mode === 'fixed') {
  const version = require(join(packageDir, 'package.json')).version;
  console.log(`// gpt-tokenizer ${version}`);
  for (const [name, text] of FIXED) {
    for (const encoding of Object.keys(ENCODINGS)) {
      const ids = encode(encoding, text);
      const kind = encoding === 'o200k_base' ? 'kO200kBase' : 'kCl100kBase';
      console.log(`    {"${name}", Encoding::${kind},\n     ${cppString(text)},\n     {${ids.join(', ')}}},`);
    }
  }
} else {
  const random = mulberry32(Number(seedArg ?? 1));
  const count = Number(countArg ?? 200);
  const texts = Array.from({ length: count }, () => generate(random));
  for (const encoding of Object.keys(ENCODINGS)) {
    for (const text of texts) {
      const hex = Buffer.from(text, 'utf8').toString('hex');
      console.log(`${encoding}\t${hex}\t${encode(encoding, text).join(',')}`);
    }
  }
}
