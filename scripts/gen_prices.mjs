#!/usr/bin/env node
// Converts the price data shipped in the npm package @pydantic/genai-prices (MIT)
// into data/prices.json, Switchyard's compact price book (see
// src/economics/price_book.h for the schema and how it is applied).
//
// Usage: node scripts/gen_prices.mjs <package-dir> <output-file> [<probes-file>]
//   <package-dir>  the installed package, e.g. /tmp/genai-prices/node_modules/@pydantic/genai-prices
//   <probes-file>  (optional) also write conformance probes: model names with the
//                  model and cost the package itself computes for them, which
//                  tests/economics checks the C++ price book against.
//   PRICES_AS_OF=YYYY-MM-DD  (optional) the day whose prices are "current"; default: today (UTC).
//
// Node 20, no dependencies beyond the package itself. Fails loudly (exit 1) on any
// shape of the source data it does not understand, rather than guessing.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

function Fail(msg) {
  console.error(`gen_prices: ${msg}`);
  process.exit(1);
}

const [pkgDir, outFile, probesFile] = process.argv.slice(2);
if (!pkgDir || !outFile) Fail('usage: gen_prices.mjs <package-dir> <output-file>');

const pkgJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (pkgJson.name !== '@pydantic/genai-prices') Fail(`${pkgDir} is ${pkgJson.name}, not @pydantic/genai-prices`);
const entry = path.join(pkgDir, pkgJson.module ?? 'dist/index.js');
const pkg = await import(pathToFileURL(entry).href);
// waitForUpdate() resolves to the provider list bundled with the package (no
// network: nothing here calls updatePrices()).
const providers = await pkg.waitForUpdate();
if (!Array.isArray(providers) || providers.length === 0) Fail('the package returned no provider data');

const asOf = process.env.PRICES_AS_OF || new Date().toISOString().slice(0, 10);
if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) Fail(`PRICES_AS_OF must be YYYY-MM-DD, got ${asOf}`);

// Price keys we keep (USD per million tokens) -> our field names.
const kKeys = {
  input_mtok: 'input',
  cache_read_mtok: 'cached_input',
  cache_write_mtok: 'cache_write',
  output_mtok: 'output',
};
const ignoredKeys = new Set();

// ---- match rules ----------------------------------------------------------
// The package's MatchLogic is a tree of or/and over equals / starts_with /
// ends_with / contains / regex. The model name is lower-cased and trimmed before
// matching; string rules compare case-insensitively, regexes are tested as
// written (a search, not anchored unless the regex says so). We flatten it to
// a list of alternatives: each one a leaf {"equals": s} ... or {"and": [leaf...]}.
const kLeafKeys = ['equals', 'starts_with', 'ends_with', 'contains', 'regex'];
// Regex features that both JavaScript and std::regex (ECMAScript) agree on.
const kRegexAllowed = /^(?:[^\\]|\\[dDwWsS.\[\]()\-\\/^$*+?{}|])*$/;

function Leaf(node, where) {
  const keys = Object.keys(node);
  if (keys.length !== 1 || !kLeafKeys.includes(keys[0]) || typeof node[keys[0]] !== 'string') {
    Fail(`${where}: unsupported match rule ${JSON.stringify(node)}`);
  }
  const k = keys[0];
  if (k === 'regex') {
    if (!kRegexAllowed.test(node.regex) || /\(\?<|\\[pPkbBu]/.test(node.regex)) {
      Fail(`${where}: regex uses a feature we do not translate: ${node.regex}`);
    }
    try {
      new RegExp(node.regex);
    } catch (e) {
      Fail(`${where}: invalid regex ${node.regex}: ${e.message}`);
    }
    return { regex: node.regex };
  }
  return { [k]: node[k].toLowerCase() };
}

// Returns a list of alternatives (disjunctive normal form, one level of "and").
function Flatten(node, where) {
  if (node === undefined || node === null) return [];
  if ('or' in node) return node.or.flatMap((n) => Flatten(n, where));
  if ('and' in node) {
    // Product of the alternatives of each conjunct.
    let alts = [[]];
    for (const part of node.and) {
      const sub = Flatten(part, where);
      const next = [];
      for (const a of alts) {
        for (const s of sub) next.push([...a, ...('and' in s ? s.and : [s])]);
      }
      alts = next;
    }
    return alts.map((parts) => (parts.length === 1 ? parts[0] : { and: parts }));
  }
  return [Leaf(node, where)];
}

// ---- prices that vary over time -------------------------------------------
function ParseTimeOfDay(s, where) {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) Fail(`${where}: unsupported time of day ${s}`);
  let secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (m[4] && m[4] !== 'Z') {
    const sign = m[4][0] === '+' ? 1 : -1;
    secs -= sign * (Number(m[4].slice(1, 3)) * 3600 + Number(m[4].slice(4, 6)) * 60);
  }
  return ((secs % 86400) + 86400) % 86400;
}

// The package picks, for a timestamp, the LAST entry whose constraint holds
// (start_date <= day, or time of day inside [start_time, end_time) UTC), else the
// first entry. We evaluate that rule for every minute of the as-of day and keep
// the price in force for the most minutes: a start_date price counts from its
// date on, and a time-of-day window (peak / off-peak) yields the price that
// applies for most of the day. Ties go to the earlier entry.
function CurrentPrices(model, where) {
  if (!Array.isArray(model.prices)) return { prices: model.prices, varies: false };
  const list = model.prices;
  const dayStart = Date.parse(`${asOf}T00:00:00Z`);
  const minutes = new Array(list.length).fill(0);
  for (let minute = 0; minute < 1440; minute++) {
    const t = dayStart + minute * 60000;
    const secOfDay = minute * 60;
    let chosen = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i].constraint;
      if (c === undefined) {
        chosen = i;
        break;
      }
      if (c.type === 'start_date' || (c.type === undefined && 'start_date' in c)) {
        if (t >= Date.parse(`${c.start_date}T00:00:00Z`)) {
          chosen = i;
          break;
        }
      } else if (c.type === 'time_of_date' || (c.type === undefined && 'start_time' in c)) {
        const s = ParseTimeOfDay(c.start_time, where);
        const e = ParseTimeOfDay(c.end_time, where);
        const inside = e < s ? secOfDay >= s || secOfDay < e : secOfDay >= s && secOfDay < e;
        if (inside) {
          chosen = i;
          break;
        }
      } else {
        Fail(`${where}: unsupported price constraint ${JSON.stringify(c)}`);
      }
    }
    minutes[chosen]++;
  }
  let best = 0;
  for (let i = 1; i < list.length; i++) if (minutes[i] > minutes[best]) best = i;
  return { prices: list[best].prices, varies: true };
}

// ---- tiers ----------------------------------------------------------------
// A package price is a number or {base, tiers:[{start, price}]}: the tier price
// applies to every token of a request whose total input tokens exceed `start`.
function PriceAt(value, totalInput) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return value;
  let p = value.base;
  for (const t of [...value.tiers].sort((a, b) => a.start - b.start)) if (totalInput > t.start) p = t.price;
  return p;
}

function ConvertPrices(prices, where) {
  const out = { input: null, cached_input: null, cache_write: null, output: null, tiers: [] };
  const starts = new Set();
  for (const [key, value] of Object.entries(prices)) {
    if (value === undefined) continue;
    if (!(key in kKeys)) {
      ignoredKeys.add(key);
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || value < 0) Fail(`${where}: bad price ${key}=${value}`);
    } else if (value && typeof value === 'object' && typeof value.base === 'number' && Array.isArray(value.tiers)) {
      for (const t of value.tiers) {
        if (!Number.isSafeInteger(t.start) || t.start < 0 || typeof t.price !== 'number') {
          Fail(`${where}: bad tier in ${key}: ${JSON.stringify(t)}`);
        }
        starts.add(t.start);
      }
    } else {
      Fail(`${where}: unsupported price value ${key}=${JSON.stringify(value)}`);
    }
    out[kKeys[key]] = PriceAt(value, 0);
  }
  for (const start of [...starts].sort((a, b) => a - b)) {
    const tier = { above_input_tokens: start };
    for (const [key, field] of Object.entries(kKeys)) tier[field] = PriceAt(prices[key], start + 1);
    out.tiers.push(tier);
  }
  return out;
}

// ---- conversion -----------------------------------------------------------
const outProviders = [];
const outModels = [];
let varying = 0;
let unpriced = 0;
for (const p of providers) {
  const pw = `provider ${p.id}`;
  outProviders.push({
    id: p.id.toLowerCase(),
    name: p.name,
    provider_match: Flatten(p.provider_match, pw),
    model_match: Flatten(p.model_match, pw),
    fallback: (p.fallback_model_providers ?? []).map((s) => s.toLowerCase()),
  });
  for (const m of p.models) {
    const where = `${p.id}/${m.id}`;
    const { prices, varies } = CurrentPrices(m, where);
    if (varies) varying++;
    const conv = ConvertPrices(prices, where);
    if (conv.input === null && conv.output === null) unpriced++;
    const match = Flatten(m.match, where);
    if (match.length === 0) Fail(`${where}: no match rule`);
    const rec = { provider: p.id.toLowerCase(), id: m.id, match, ...conv };
    if (conv.tiers.length === 0) delete rec.tiers;
    outModels.push(rec);
  }
}

const header = {
  source: '@pydantic/genai-prices',
  source_version: pkgJson.version,
  source_license: 'MIT',
  generated_at: new Date().toISOString().slice(0, 10),
  prices_as_of: asOf,
  unit: 'USD per million tokens',
  price_selection:
    'Where the source lists prices that change over time, the price in force on prices_as_of is kept ' +
    '(a start_date price from its date on; for time-of-day prices, the price that applies for most of the ' +
    'UTC day). Re-run `make prices` to move the date.',
  tier_rule:
    'A tier applies to every token of a request whose total prompt tokens (cached included) exceed ' +
    'above_input_tokens; the highest such tier wins.',
  match_rule:
    'Models are tried in file order within a provider (then its fallback providers); the first whose ' +
    'match list has a matching alternative wins. The model name is trimmed and lower-cased; equals / ' +
    'starts_with / ends_with / contains compare with lower-cased patterns; regex is an ECMAScript search; ' +
    '"and" needs every part. If nothing matches, a -YYYYMMDD date suffix is rewritten as -YYYY-MM-DD and ' +
    'tried again.',
  null_prices:
    'cached_input / cache_write null: billed at the input price. input and output both null: the model has ' +
    'no per-token price (audio, images, pages...) and is not priced.',
  ignored_price_keys: [...ignoredKeys].sort(),
  counts: { providers: outProviders.length, models: outModels.length, time_varying: varying, unpriced },
};

// One provider / model per line: compact, and a re-generation diffs line by line.
const lines = ['{'];
for (const [k, v] of Object.entries(header)) lines.push(`${JSON.stringify(k)}:${JSON.stringify(v)},`);
lines.push('"providers":[');
outProviders.forEach((p, i) => lines.push(JSON.stringify(p) + (i + 1 < outProviders.length ? ',' : '')));
lines.push('],');
lines.push('"models":[');
outModels.forEach((m, i) => lines.push(JSON.stringify(m) + (i + 1 < outModels.length ? ',' : '')));
lines.push(']}');
const text = lines.join('\n') + '\n';
JSON.parse(text);  // self-check
fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
fs.writeFileSync(outFile, text);
console.log(
  `gen_prices: ${outModels.length} models from ${outProviders.length} providers ` +
    `(${pkgJson.name}@${pkgJson.version}, prices as of ${asOf}) -> ${outFile} (${text.length} bytes)`,
);

// ---- conformance probes -----------------------------------------------------
// For names derived from each model's match rules, ask the package which model
// it picks (calcPrice, at noon UTC on prices_as_of) and what two usages cost.
// Costs are left out (null) where our conversion knowingly differs: prices that
// vary over time, and per-request fees.
if (probesFile) {
  const when = new Date(`${asOf}T12:00:00Z`);
  const usageA = { input_tokens: 1000, output_tokens: 500 };
  const usageB = { input_tokens: 300000, cache_read_tokens: 100000, cache_write_tokens: 20000, output_tokens: 2000 };
  const NameFor = (node) => {
    if ('equals' in node) return node.equals;
    if ('starts_with' in node) return node.starts_with;
    if ('ends_with' in node) return `custom-${node.ends_with}`;
    if ('contains' in node) return `my-${node.contains}-v2`;
    if ('and' in node) return NameFor(node.and[0]);
    if ('or' in node) return NameFor(node.or[0]);
    if ('regex' in node) {
      const r = node.regex
        .replace(/^\^/, '')
        .replace(/\$$/, '')
        .replace(/\\d\{8\}/g, '20260101')
        .replace(/\\d\{4\}-\\d\{2\}-\\d\{2\}/g, '2026-01-01')
        .replace(/\\d/g, '1')
        .replace(/\\(.)/g, '$1');
      return /[()[\]*+?{}|^$]/.test(r) ? null : r;
    }
    return null;
  };
  const quiet = console.warn;
  console.warn = () => {};
  const Calc = (usage, name, providerId) => {
    try {
      return pkg.calcPrice(usage, name, { providerId: providerId || undefined, timestamp: when });
    } catch {
      return undefined;
    }
  };
  const Round = (x) => Number(x.toPrecision(15));
  const probes = [];
  const seen = new Set();
  for (const p of providers) {
    for (const m of p.models) {
      const alts = 'or' in m.match ? m.match.or : [m.match];
      const names = [];
      for (const alt of alts.slice(0, 2)) {
        const n = NameFor(alt);
        if (n) names.push(n);
      }
      if (names[0] && !/-\d{4}-\d{2}-\d{2}/.test(names[0])) names.push(`${names[0]}-20250101`);
      for (const n of names) {
        const compact = n.replace(/-(20\d{2})-(\d{2})-(\d{2})/, '-$1$2$3');
        if (compact !== n) names.push(compact);
      }
      for (const name of names.slice(0, 4)) {
        for (const providerId of p.model_match ? [p.id, ''] : [p.id]) {
          const key = `${providerId}\u0000${name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const a = Calc(usageA, name, providerId);
          // Only names the package prices: where it finds nothing, we go on
          // searching (other providers' rules, "provider/model" prefixes).
          if (!a) continue;
          const b = Calc(usageB, name, providerId);
          if (b === undefined) continue;
          const expected = `${a.provider.id.toLowerCase()}/${a.model.id}`;
          const comparable =
            !Array.isArray(a.model.prices) && a.model_price.requests_kcount === undefined;
          probes.push([
            providerId,
            name,
            expected,
            comparable ? Round(a.total_price) : null,
            comparable && b ? Round(b.total_price) : null,
          ]);
        }
      }
    }
  }
  console.warn = quiet;
  const ptext =
    `{"source_version":${JSON.stringify(pkgJson.version)},"prices_as_of":${JSON.stringify(asOf)},` +
    `"usage_a":{"prompt_tokens":1000,"completion_tokens":500},` +
    `"usage_b":{"prompt_tokens":300000,"cached_prompt_tokens":100000,"cache_write_tokens":20000,"completion_tokens":2000},` +
    `"fields":["provider","model","expected","usd_a","usd_b"],"probes":[\n` +
    probes.map((x) => JSON.stringify(x)).join(',\n') +
    '\n]}\n';
  JSON.parse(ptext);
  fs.mkdirSync(path.dirname(path.resolve(probesFile)), { recursive: true });
  fs.writeFileSync(probesFile, ptext);
  console.log(`gen_prices: ${probes.length} conformance probes -> ${probesFile} (${ptext.length} bytes)`);
}
