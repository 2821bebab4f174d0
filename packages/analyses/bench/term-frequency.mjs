// Term-frequency counting throughput: (1) the windows alone over decoded rows, this package vs
// Pythia's own Python regular expressions (CPython `re`, timed inside the Python process on the same
// texts, counts compared); (2) the whole pass (decode + count + merge) on 0, 1 and 2 worker threads.
// Corpus: Tiny Shakespeare (../shared or PYTHIA_SHARED_DATA) with a numeric sentence every few
// lines so that windows occur, tokenized with the Pile tokenizer into 2049-token rows.
// Run: pnpm --filter @pythia/analyses bench   (or: node bench/term-frequency.mjs [--rows 600])
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { countTermFrequencies, cleanUpTokenizationSpaces, termFrequency } from "../dist/index.js";
import { loadPileTokenizer } from "@pythia/tokenizer/node";

const at = process.argv.indexOf("--rows");
const rowsWanted = at === -1 ? 600 : Number(process.argv[at + 1]);
const shared =
  process.env.PYTHIA_SHARED_DATA ?? fileURLToPath(new URL("../../../../shared/data", import.meta.url));
const shakespeare = readFileSync(join(shared, "corpus/tinyshakespeare/input.txt"), "utf8").split("\n");
let seed = 7;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const units = ["minutes", "hours", "days", "weeks", "years"];
const lines = [];
for (const [i, line] of shakespeare.entries()) {
  lines.push(line);
  if (i % 4 === 0) {
    const a = Math.floor(rand() * 100);
    const b = Math.floor(rand() * 3000);
    lines.push(
      `In ${a} ${units[i % 5]} they sold ${b} of the ${a + b} items, ${a} times more than ${b % 50}.`,
    );
  }
}
const tokenizer = await loadPileTokenizer();
const ids = tokenizer.encode(lines.join("\n"));
const width = 2049;
const rows = [];
for (let r = 0; rows.length < rowsWanted; r++) {
  const start = (r * width) % (ids.length - width);
  rows.push(Int32Array.from(ids.slice(start, start + width)));
}
const tokens = rows.length * width;
console.log(
  `corpus: ${rows.length} rows × ${width} tokens = ${(tokens / 1e6).toFixed(2)}M tokens; ${availableParallelism()} cores`,
);

// (1) windows alone, JS vs CPython re, on the same decoded and cleaned-up texts.
const texts = rows.map((row) => cleanUpTokenizationSpaces(tokenizer.decode(row)));
const dir = mkdtempSync(join(tmpdir(), "pythia-tf-bench-"));
writeFileSync(join(dir, "texts.json"), JSON.stringify(texts));
const best = (f, n = 3) =>
  Math.min(
    ...Array.from({ length: n }, () => (f(), 0)).map(() => {
      const t = performance.now();
      f();
      return performance.now() - t;
    }),
  );
let jsCounts;
const jsMs = best(() => {
  jsCounts = new Map();
  for (const text of texts) countTermFrequencies(text, jsCounts);
});
const python = `
import itertools, json, re, string, sys, time
time_units = "minute|hour|day|week|month|year|decade"
punct = re.escape(string.punctuation)
a = re.compile(f'(?=( (\\\\d){{1,5}} ((\\\\w|[{punct}])+\\\\s+){{0,3}}?({time_units})))')
b = re.compile(f'(?=( ({time_units}) ((\\\\w|[{punct}])+\\\\s+){{0,3}}?(\\\\d){{1,5}}))')
lazy = re.compile(f'(?=( (\\\\d){{1,5}} ((\\\\w|[{punct}])+\\\\s+){{1,3}}(\\\\d){{1,5}}))')
unit = re.compile(time_units)
texts = json.load(open(sys.argv[1]))
def run():
    fc = {}
    for line in texts:
        line = " " + line
        for window in [m.group(1) for m in re.finditer(lazy, line)]:
            numbers = sorted(int(i) for i in re.findall(r'\\d{1,5}', window))
            for n in numbers: fc[str(n)] = fc.get(str(n), 0) + 1
            for x, y in itertools.combinations(numbers, 2): fc[f"{x}-{y}"] = fc.get(f"{x}-{y}", 0) + 1
        for rs in (a, b):
            for window in [m.group(1) for m in re.finditer(rs, line)]:
                numbers = sorted(int(i) for i in re.findall(r'\\d{1,5}', window))
                for n in numbers:
                    for u in re.findall(unit, window): fc[f"{n}-{u}"] = fc.get(f"{n}-{u}", 0) + 1
    return fc
times = []
for _ in range(3):
    t = time.perf_counter(); fc = run(); times.append(time.perf_counter() - t)
print(json.dumps({"ms": min(times) * 1000, "counts": fc}))
`;
writeFileSync(join(dir, "count.py"), python);
const py = JSON.parse(
  execFileSync("python3", [join(dir, "count.py"), join(dir, "texts.json")], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  }),
);
const same =
  JSON.stringify(Object.fromEntries([...jsCounts].sort())) ===
  JSON.stringify(Object.fromEntries(Object.entries(py.counts).sort()));
console.log(
  `windows only: JS ${jsMs.toFixed(0)} ms, CPython re ${py.ms.toFixed(0)} ms → ${(py.ms / jsMs).toFixed(2)}× (counts identical: ${same}, ${jsCounts.size} keys)`,
);

// (2) the whole pass.
const source = (start, count) => rows.slice(start, start + count);
const results = [];
for (const workers of [0, 1, 2]) {
  const t = performance.now();
  await termFrequency({
    rows: source,
    checkpointSteps: [rows.length / 4, rows.length / 2, rows.length].map((r) => r / 2),
    batchSize: 2,
    workers,
    rowsPerRead: 32,
  });
  results.push({ workers, ms: performance.now() - t });
}
const base = results[0].ms;
for (const { workers, ms } of results) {
  console.log(
    `decode + count, ${workers} worker${workers === 1 ? "" : "s"}: ${(ms / 1000).toFixed(2)} s, ${(((tokens / ms) * 1000) / 1e6).toFixed(2)}M tok/s, ${(base / ms).toFixed(2)}× vs this thread`,
  );
}
