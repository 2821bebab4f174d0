// Encode throughput of @pythia/tokenizer against the Hugging Face tokenizers Rust core (0.22.2, through
// the napi binding @anush008/tokenizers) and tokenizers.js (@huggingface/tokenizers), all measured in
// this one process on the same documents, plus an exact-ids check against the Rust core.
//
// Run from packages/tokenizer after building: npx tsup && pnpm bench
// (= node --expose-gc bench/encode-throughput.mjs).
//
// This is a benchmark, not a test: it prints ratios against references measured in the same run and
// exits non-zero only when our ids differ from the Rust core's (or an input is missing).
//
// Corpus (deterministic, three slices, each a list of documents):
//   shakespeare  Tiny Shakespeare, split into paragraphs on blank lines
//                ($PYTHIA_SHARED_DATA/corpus/tinyshakespeare/input.txt)
//   code         the first ~1 MB of typescript/lib/typescript.js (the lockfile-pinned devDependency),
//                whole lines, 40 lines per document
//   unicode      every `text` of test/fixtures/cases.jsonl containing a non-ASCII character, plus
//                $PYTHIA_SHARED_DATA/corpus/enwik8/enwik8_first100.txt in groups of 10 lines
//   multilingual ~0.6 MB of synthetic text in nine scripts (accented Latin, Cyrillic, Greek, Arabic,
//                Devanagari, CJK, Hangul, emoji, digits), words drawn with a Zipf-like skew from a
//                fixed per-script pool by a seeded PRNG (mulberry32), so a cold pass sees new words
// PYTHIA_SHARED_DATA defaults to <repo root>/../shared/data.
//
// Methodology, per slice: every implementation gets one untimed warm-up pass, then N_TIMED timed passes
// (interleaved across implementations, global.gc() before each); the table shows the median MB/s
// (MB = 10^6 UTF-8 bytes of input). A timed pass over a slice smaller than MIN_SAMPLE_BYTES encodes the
// slice `reps` times back to back, so that a sample is not a sub-millisecond timer reading; MB/s counts
// the bytes of all repetitions. "ours, cold" is the first pass over the slice on a freshly constructed
// Tokenizer.fromJSON instance (empty word cache); the cold passes run first in the process, so the
// first slice's cold number also includes V8's JIT warm-up.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const N_TIMED = 3;
const MIN_SAMPLE_BYTES = 1_000_000;
const CODE_BYTES = 1_000_000;
const MULTILINGUAL_BYTES = 600_000;
const CODE_LINES_PER_DOC = 40;
const ENWIK8_LINES_PER_DOC = 10;
const HF_BATCH_SIZE = 256;

const packageDir = fileURLToPath(new URL("../", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedData = process.env.PYTHIA_SHARED_DATA ?? path.resolve(repoRoot, "../shared/data");
const tokenizerPath = path.join(packageDir, "data/gpt-neox-20b/tokenizer.json");

const gc = typeof globalThis.gc === "function" ? globalThis.gc : () => {};
const utf8Bytes = (text) => Buffer.byteLength(text, "utf8");
const mb = (bytes) => bytes / 1e6;

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

function readShared(relative) {
  const file = path.join(sharedData, relative);
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    fail(
      `cannot read ${file} (${error.code ?? error.message}). Set PYTHIA_SHARED_DATA to the shared data ` +
        `folder (now ${sharedData}${process.env.PYTHIA_SHARED_DATA ? "" : ", the default <repo root>/../shared/data"}).`,
    );
  }
}

// ---------------------------------------------------------------------------------------------- corpus

function buildCorpus() {
  const shakespeare = readShared("corpus/tinyshakespeare/input.txt")
    .split(/\n[ \t]*\n/)
    .filter((doc) => doc.length > 0);

  const requireFromPackage = createRequire(path.join(packageDir, "package.json"));
  const typescriptFile = requireFromPackage.resolve("typescript/lib/typescript.js");
  const typescriptVersion = requireFromPackage("typescript/package.json").version;
  const lines = [];
  let bytes = 0;
  for (const line of readFileSync(typescriptFile, "utf8").split("\n")) {
    if (bytes >= CODE_BYTES) {
      break;
    }
    lines.push(line);
    bytes += utf8Bytes(line) + 1;
  }
  const code = [];
  for (let i = 0; i < lines.length; i += CODE_LINES_PER_DOC) {
    code.push(lines.slice(i, i + CODE_LINES_PER_DOC).join("\n") + "\n");
  }

  const nonAscii = /[\u0080-\uffff]/; // any non-ASCII UTF-16 code unit
  const fixtureTexts = readFileSync(path.join(packageDir, "test/fixtures/cases.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line).text)
    .filter((text) => typeof text === "string" && nonAscii.test(text));
  const enwikLines = readShared("corpus/enwik8/enwik8_first100.txt").split("\n");
  if (enwikLines.at(-1) === "") {
    enwikLines.pop();
  }
  const enwik = [];
  for (let i = 0; i < enwikLines.length; i += ENWIK8_LINES_PER_DOC) {
    enwik.push(enwikLines.slice(i, i + ENWIK8_LINES_PER_DOC).join("\n") + "\n");
  }
  const unicode = [...fixtureTexts, ...enwik];
  const multilingual = syntheticMultilingual(MULTILINGUAL_BYTES);

  const slices = [
    { name: "shakespeare", docs: shakespeare, note: "Tiny Shakespeare paragraphs" },
    {
      name: "code",
      docs: code,
      note: `typescript@${typescriptVersion} lib/typescript.js, ${CODE_LINES_PER_DOC}-line chunks`,
    },
    {
      name: "unicode",
      docs: unicode,
      note: `${fixtureTexts.length} non-ASCII fixture texts + ${enwik.length} enwik8 10-line groups`,
    },
    { name: "multilingual", docs: multilingual, note: "synthetic text in nine scripts (seeded)" },
  ];
  for (const slice of slices) {
    slice.bytes = slice.docs.reduce((sum, doc) => sum + utf8Bytes(doc), 0);
    slice.reps = Math.max(1, Math.ceil(MIN_SAMPLE_BYTES / slice.bytes));
  }
  return slices;
}

/** Deterministic PRNG (mulberry32): the same corpus on every run and machine. */
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

/** ~`targetBytes` of multilingual documents: per-script word pools, Zipf-like word choice. */
function syntheticMultilingual(targetBytes) {
  const random = mulberry32(20261128);
  const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));
  const scripts = [
    { chars: [..."abcdefghijklmnopqrstuvwxyzéèêëàâäôöûüçñßåøæ"], joiner: " " },
    { chars: range(0x430, 0x44f), joiner: " " },
    { chars: range(0x3b1, 0x3c9), joiner: " " },
    { chars: range(0x627, 0x64a), joiner: " " },
    { chars: [...range(0x915, 0x939), ...range(0x93e, 0x94c)], joiner: " " },
    { chars: range(0x4e00, 0x9fff), joiner: "" },
    { chars: range(0xac00, 0xd7a3), joiner: " " },
    { chars: range(0x1f600, 0x1f64f), joiner: " " },
    { chars: [..."0123456789"], joiner: " " },
  ];
  for (const script of scripts) {
    script.pool = Array.from({ length: 3000 }, () => {
      const length = 2 + Math.floor(random() * 7);
      let word = "";
      for (let i = 0; i < length; i++) {
        word += script.chars[Math.floor(random() * script.chars.length)];
      }
      return word;
    });
  }
  const docs = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    const script = scripts[Math.floor(random() * scripts.length)];
    const words = [];
    for (let i = 0, n = 20 + Math.floor(random() * 60); i < n; i++) {
      words.push(script.pool[Math.floor(script.pool.length * random() ** 3)]);
      if (random() < 0.08) {
        words.push(random() < 0.5 ? "," : ".\n");
      }
    }
    const doc = words.join(script.joiner);
    docs.push(doc);
    bytes += utf8Bytes(doc);
  }
  return docs;
}

// ------------------------------------------------------------------------------------- implementations

async function loadImplementations(tokenizerJsonText) {
  let oursModule;
  try {
    oursModule = await import("../dist/index.js");
  } catch (error) {
    fail(`cannot import ../dist/index.js (${error.message}); build first: npx tsup`);
  }
  const implementations = [];
  const timings = {};

  let t0 = performance.now();
  const ours = await oursModule.loadPileTokenizer();
  timings.ours = performance.now() - t0;
  implementations.push({
    key: "ours",
    label: "ours (warm cache)",
    encodeSlice: async (docs) => docs.map((doc) => ours.encode(doc)),
  });

  const hfModule = await import("@anush008/tokenizers");
  const HfTokenizer = (hfModule.default ?? hfModule).Tokenizer;
  t0 = performance.now();
  const hf = HfTokenizer.fromFile(tokenizerPath);
  timings.hf = performance.now() - t0;
  const hfOptions = { addSpecialTokens: false };
  implementations.push({
    key: "hfSeq",
    label: "HF Rust, sequential",
    encodeSlice: async (docs) => {
      const out = new Array(docs.length);
      for (let i = 0; i < docs.length; i++) {
        out[i] = (await hf.encode(docs[i], null, hfOptions)).getIds();
      }
      return out;
    },
  });
  implementations.push({
    key: "hfBatch",
    label: `HF Rust, encodeBatch(${HF_BATCH_SIZE}) [multi-threaded]`,
    encodeSlice: async (docs) => {
      const out = [];
      for (let i = 0; i < docs.length; i += HF_BATCH_SIZE) {
        for (const encoding of await hf.encodeBatch(docs.slice(i, i + HF_BATCH_SIZE), hfOptions)) {
          out.push(encoding.getIds());
        }
      }
      return out;
    },
  });

  let tjsUnavailable = null;
  try {
    const { Tokenizer: TjsTokenizer } = await import("@huggingface/tokenizers");
    t0 = performance.now();
    const tjs = new TjsTokenizer(JSON.parse(tokenizerJsonText), {});
    timings.tjs = performance.now() - t0;
    const tjsOptions = { add_special_tokens: false };
    const probe = tjs.encode("Hello, world!", tjsOptions).ids;
    if (!Array.isArray(probe) || probe.length === 0) {
      throw new Error(`unexpected encode() result for a probe text: ${JSON.stringify(probe)}`);
    }
    implementations.push({
      key: "tjs",
      label: "tokenizers.js",
      encodeSlice: async (docs) => docs.map((doc) => tjs.encode(doc, tjsOptions).ids),
    });
  } catch (error) {
    tjsUnavailable = error.message;
  }

  return { oursModule, implementations, timings, tjsUnavailable };
}

// ------------------------------------------------------------------------------------------ correctness

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return i;
    }
  }
  return a.length === b.length ? -1 : n;
}

function checkOurs(slice, label, oursIds, hfIds) {
  for (let d = 0; d < slice.docs.length; d++) {
    const at = firstDifference(oursIds[d], hfIds[d]);
    if (at !== -1) {
      console.error(
        `\nMISMATCH (${label}) in slice "${slice.name}", document ${d}, first differing token index ${at}`,
      );
      console.error(`document: ${JSON.stringify(slice.docs[d])}`);
      console.error(
        `ours     [${at}..]: ${JSON.stringify(oursIds[d].slice(at, at + 12))} (length ${oursIds[d].length})`,
      );
      console.error(
        `HF Rust  [${at}..]: ${JSON.stringify(hfIds[d].slice(at, at + 12))} (length ${hfIds[d].length})`,
      );
      process.exit(1);
    }
  }
}

function countMismatches(idsA, idsB) {
  let count = 0;
  let first = -1;
  for (let d = 0; d < idsA.length; d++) {
    if (firstDifference(idsA[d], idsB[d]) !== -1) {
      count++;
      if (first === -1) {
        first = d;
      }
    }
  }
  return { count, first };
}

// ---------------------------------------------------------------------------------------------- timing

async function timePass(encodeSlice, docs, reps) {
  gc();
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    await encodeSlice(docs);
  }
  return (performance.now() - start) / 1000 / reps; // seconds per single pass over the slice
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function formatTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

// ------------------------------------------------------------------------------------------------ main

async function main() {
  const wallStart = performance.now();
  const slices = buildCorpus();
  const totalBytes = slices.reduce((sum, slice) => sum + slice.bytes, 0);
  console.log(
    `@pythia/tokenizer encode throughput — node ${process.version}, gc ${typeof globalThis.gc === "function" ? "exposed" : "NOT exposed (run with --expose-gc)"}`,
  );
  console.log(`shared data: ${sharedData}\n`);
  console.log("corpus:");
  for (const slice of slices) {
    const repsNote = slice.reps > 1 ? `, timed passes repeat it ${slice.reps}x` : "";
    console.log(
      `  ${slice.name.padEnd(12)} ${mb(slice.bytes).toFixed(3).padStart(7)} MB  ${String(slice.docs.length).padStart(6)} docs  (${slice.note}${repsNote})`,
    );
  }
  console.log(
    `  ${"total".padEnd(12)} ${mb(totalBytes).toFixed(3).padStart(7)} MB  ${String(slices.reduce((s, x) => s + x.docs.length, 0)).padStart(6)} docs\n`,
  );

  const tokenizerJsonText = readFileSync(tokenizerPath, "utf8");
  const tokenizerJson = JSON.parse(tokenizerJsonText);
  const { oursModule, implementations, timings, tjsUnavailable } =
    await loadImplementations(tokenizerJsonText);
  const hasTjs = implementations.some((impl) => impl.key === "tjs");

  // Cold: the first pass over each slice on a fresh instance (empty word cache). Run first of all.
  const cold = {};
  const coldIds = {};
  for (const slice of slices) {
    const t0 = performance.now();
    const fresh = oursModule.Tokenizer.fromJSON(tokenizerJson);
    const buildMs = performance.now() - t0;
    gc();
    const start = performance.now();
    coldIds[slice.name] = slice.docs.map((doc) => fresh.encode(doc));
    cold[slice.name] = { seconds: (performance.now() - start) / 1000, buildMs };
  }

  const results = {}; // results[slice][implKey] = median seconds per pass
  const mismatchNotes = [];
  for (const slice of slices) {
    const samples = Object.fromEntries(implementations.map((impl) => [impl.key, []]));
    const warmIds = {};
    for (const impl of implementations) {
      gc();
      warmIds[impl.key] = await impl.encodeSlice(slice.docs);
    }
    // Correctness: ours (cold and warm cache) must equal the Rust core exactly.
    checkOurs(slice, "ours, fresh instance", coldIds[slice.name], warmIds.hfSeq);
    checkOurs(slice, "ours, warm cache", warmIds.ours, warmIds.hfSeq);
    const batchVsSeq = countMismatches(warmIds.hfBatch, warmIds.hfSeq);
    if (batchVsSeq.count > 0) {
      mismatchNotes.push(
        `HF Rust encodeBatch differs from HF Rust encode on ${batchVsSeq.count} ${slice.name} docs`,
      );
    }
    if (hasTjs) {
      const tjsVsHf = countMismatches(warmIds.tjs, warmIds.hfSeq);
      slice.tjsMismatches = tjsVsHf;
    }
    slice.tokens = warmIds.hfSeq.reduce((sum, ids) => sum + ids.length, 0);

    for (let pass = 0; pass < N_TIMED; pass++) {
      for (const impl of implementations) {
        samples[impl.key].push(await timePass(impl.encodeSlice, slice.docs, slice.reps));
      }
    }
    results[slice.name] = Object.fromEntries(
      implementations.map((impl) => [impl.key, median(samples[impl.key])]),
    );
    results[slice.name].oursCold = cold[slice.name].seconds;
    const spread = implementations
      .map(
        (impl) => `${impl.key} ${samples[impl.key].map((s) => (mb(slice.bytes) / s).toFixed(1)).join("/")}`,
      )
      .join(", ");
    console.log(`  ${slice.name}: timed MB/s per pass: ${spread}`);
  }

  // ------------------------------------------------------------------------------------------ report
  const columns = [
    { key: "ours", label: "ours (warm)" },
    { key: "oursCold", label: "ours (cold)" },
    { key: "hfSeq", label: "HF Rust seq" },
    { key: "hfBatch", label: "HF Rust batch (MT)" },
    ...(hasTjs ? [{ key: "tjs", label: "tokenizers.js" }] : []),
  ];
  const totals = Object.fromEntries(
    columns.map((c) => [c.key, slices.reduce((sum, s) => sum + results[s.name][c.key], 0)]),
  );
  const rate = (bytes, seconds) => (mb(bytes) / seconds).toFixed(2);
  const rows = slices.map((slice) => [
    `${slice.name} (${mb(slice.bytes).toFixed(2)} MB, ${slice.docs.length} docs)`,
    ...columns.map((c) => rate(slice.bytes, results[slice.name][c.key])),
  ]);
  rows.push([
    `overall (${mb(totalBytes).toFixed(2)} MB)`,
    ...columns.map((c) => rate(totalBytes, totals[c.key])),
  ]);
  console.log(
    `\nthroughput, MB/s (median of ${N_TIMED} timed passes after 1 warm-up; cold = single first pass on a fresh instance):\n`,
  );
  console.log(formatTable(["slice", ...columns.map((c) => c.label)], rows));

  const ratio = (refKey, oursKey, sliceName) =>
    sliceName === null
      ? totals[refKey] / totals[oursKey]
      : results[sliceName][refKey] / results[sliceName][oursKey];
  const ratioRows = [...slices.map((s) => s.name), null].map((name) => [
    name ?? "overall",
    `${ratio("hfSeq", "ours", name).toFixed(2)}x`,
    `${ratio("hfSeq", "oursCold", name).toFixed(2)}x`,
    `${ratio("hfBatch", "ours", name).toFixed(2)}x`,
    hasTjs ? `${ratio("tjs", "ours", name).toFixed(2)}x` : "n/a",
    hasTjs ? `${ratio("tjs", "oursCold", name).toFixed(2)}x` : "n/a",
  ]);
  console.log("\nratios (ours throughput / reference throughput; > 1 means ours is faster):\n");
  console.log(
    formatTable(
      [
        "slice",
        "warm vs HF Rust seq",
        "cold vs HF Rust seq",
        "warm vs HF Rust batch (MT)",
        "warm vs tokenizers.js",
        "cold vs tokenizers.js",
      ],
      ratioRows,
    ),
  );

  const totalDocs = slices.reduce((sum, s) => sum + s.docs.length, 0);
  const totalTokens = slices.reduce((sum, s) => sum + s.tokens, 0);
  console.log(
    `\ncorrectness: ours == HF Rust ids on all ${totalDocs} docs (${totalTokens} tokens), with a fresh instance and with a warm cache`,
  );
  if (hasTjs) {
    for (const slice of slices) {
      const m = slice.tjsMismatches;
      console.log(
        `  tokenizers.js vs HF Rust, ${slice.name}: ${m.count} of ${slice.docs.length} docs differ${m.count > 0 ? ` (first: doc ${m.first})` : ""}`,
      );
    }
  } else {
    console.log(`  tokenizers.js: unavailable (${tjsUnavailable})`);
  }
  for (const note of mismatchNotes) {
    console.log(`  note: ${note}`);
  }
  const coldBuild = slices.map((s) => cold[s.name].buildMs.toFixed(0)).join("/");
  console.log(
    `\nsetup: loadPileTokenizer() ${timings.ours.toFixed(0)} ms, Tokenizer.fromJSON(parsed) ${coldBuild} ms, ` +
      `HF Rust fromFile ${timings.hf.toFixed(0)} ms${hasTjs ? `, tokenizers.js constructor ${timings.tjs.toFixed(0)} ms` : ""}`,
  );
  console.log(`wall time: ${((performance.now() - wallStart) / 1000).toFixed(1)} s`);
}

await main();
