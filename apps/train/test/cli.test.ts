// pythia-train, run as users run it: a child process over the built app (tiny model, tiny corpus).
import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { FakeHub } from "../../../packages/hub/test/fake-hub.js";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
if (!existsSync(cli)) {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const env = { ...process.env, PYTHIA_BACKEND: "wasm" };

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The tiny run of these tests: 2 layers of width 32, 6 steps of 4 × 16 tokens in micro-batches of 2. */
const tinyArgs = (out: string) => [
  "--neox-config",
  fixture("tiny-neox.yml"),
  "--input",
  fixture("corpus-a.txt"),
  fixture("corpus-b.txt"),
  "--seq-length",
  "16",
  "--batch-size",
  "4",
  "--micro-batch-size",
  "2",
  "--steps",
  "6",
  "--checkpoint-every",
  "3",
  "--output",
  out,
];

function expectOneLineError(result: ReturnType<typeof run>, code: number, text: string) {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toContain(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("pythia-train", () => {
  const root = mkdtempSync(join(tmpdir(), "pythia-train-cli-"));
  const out = join(root, "tiny");
  let first: ReturnType<typeof run>;

  beforeAll(() => {
    first = run(tinyArgs(out));
  }, 60_000);

  it("trains, writing Pythia's checkpoint series, metrics, run.json and the loss plot", () => {
    expect(first.code, first.stderr).toBe(0);
    const steps = readdirSync(out)
      .filter((entry) => /^step\d+$/.test(entry))
      .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
    expect(steps).toEqual(["step0", "step1", "step2", "step3", "step4", "step6"]);
    for (const step of steps) {
      for (const file of ["config.json", "model.safetensors", "optimizer.safetensors", "manifest.json"]) {
        expect(existsSync(join(out, step, file)), `${step}/${file}`).toBe(true);
      }
    }
    const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; step: number; loss: number });
    expect(metrics.filter((line) => line.type === "train").map((line) => line.step)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(metrics.filter((line) => line.type === "eval").map((line) => line.step)).toEqual([6]);
    expect(metrics.every((line) => Number.isFinite(line.loss))).toBe(true);
    const runJson = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(runJson.config).toMatchObject({
      steps: 6,
      batchSize: 4,
      microBatchSize: 2,
      seqLength: 16,
      lr: 0.002, // from the YAML
      minLr: 0.0002,
      checkpointEvery: 3,
      model: { numLayers: 2, hiddenSize: 32, numHeads: 4, vocabSize: 50304 },
    });
    // Stored relative to the run directory, so the run can be moved (docs/decisions/0012-run-contract.md).
    expect(runJson.format).toBe("pythia-run/1");
    expect(runJson.data.prefix).toBe("data/corpus-a_text_document");
    const svg = readFileSync(join(out, "plots", "loss.svg"), "utf8");
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain("validation");
    expect(statSync(join(out, "plots", "loss.png")).size).toBeGreaterThan(1000);
    // Not a terminal: nanoGPT-style lines, then the report.
    expect(first.stderr).toMatch(/step 1: loss \d+\.\d{4}, lr 0\.0e\+0, \d+ ms, \d+ tok\/s/);
    expect(first.stderr).toContain("backend wasm");
    expect(first.stdout).toContain(`output       ${out}`);
    expect(first.stdout).toMatch(/checkpoints {2}6 \(step0 … step6/);
    expect(first.stdout).toMatch(/validation {3}loss \d+\.\d+, perplexity \d+\.\d+ \(step 6\)/);
    expect(first.stdout).toContain(`pythia-train --output ${out} --resume`);
    // @pythia/cli is not installed next to the app here: the standalone form, then the umbrella one.
    expect(first.stdout).toContain(
      `  resume       pythia-train --output ${out} --resume  (with @pythia/cli: pythia train --output ${out} --resume)\n`,
    );
    expect(first.stdout).toMatch(
      /\n {2}evaluate {5}node \S+cli\.js generate --checkpoint \S+step6 --prompt "ROMEO:" {2}\(with @pythia\/cli: pythia model generate --checkpoint \S+step6 --prompt "ROMEO:"\)\n/,
    );
  });

  it("--resume on a finished run trains nothing and succeeds", () => {
    expect(first.code, first.stderr).toBe(0);
    const metricsBefore = readFileSync(join(out, "metrics.jsonl"), "utf8");
    const result = run(["--output", out, "--resume"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("had already finished its 6 steps");
    expect(readFileSync(join(out, "metrics.jsonl"), "utf8")).toBe(metricsBefore);
    expect(result.stderr).not.toMatch(/step \d+: loss/);
  });

  it("--resume --export-neox-config also writes the newest checkpoint as a GPT-NeoX checkpoint to continue from", async () => {
    expect(first.code, first.stderr).toBe(0);
    const file = join(root, "continue.yml");
    const result = run(["--output", out, "--resume", "--export-neox-config", file]);
    expect(result.code, result.stderr).toBe(0);
    const saveDir = join(out, "neox-checkpoints");
    expect(result.stdout).toContain(
      `with the weights of step6 as GPT-NeoX checkpoint ${join(saveDir, "global_step6")}`,
    );
    const yaml = parseYaml(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(yaml).toMatchObject({ load: saveDir, save: saveDir, no_load_optim: true, no_load_rng: true });
    expect(readFileSync(join(saveDir, "latest"), "utf8")).toBe("global_step6");
    expect(readdirSync(join(saveDir, "global_step6")).sort()).toEqual([
      "configs",
      "mp_rank_00_model_states.pt",
    ]);
    // GPT-NeoX's converter (as pythia-model import-neox) turns it back into exactly the step6 weights:
    // the same tensors, written by the same safetensors writer, give the same bytes.
    const modelCli = fileURLToPath(new URL("../../../packages/model/dist/cli.js", import.meta.url));
    const back = join(root, "back");
    const imported = spawnSync(
      process.execPath,
      [
        modelCli,
        "import-neox",
        "--checkpoint",
        saveDir,
        "--config",
        file,
        "--output",
        back,
        "--no-tokenizer",
      ],
      { encoding: "utf8", env },
    );
    expect(imported.status, imported.stderr).toBe(0);
    expect(
      readFileSync(join(back, "model.safetensors")).equals(
        readFileSync(join(out, "step6/model.safetensors")),
      ),
    ).toBe(true);
  });

  it("refuses to overwrite a run without --resume", () => {
    expectOneLineError(
      run(tinyArgs(out)),
      1,
      "already holds checkpoints (newest: step6); continue it with --resume",
    );
  });

  it("--export-neox-config writes a GPT-NeoX YAML with Pythia's keys and trains nothing", () => {
    const dir = join(root, "export");
    const file = join(root, "exported.yml");
    const result = run([
      "--neox-config",
      fixture("tiny-neox.yml"),
      "--input",
      fixture("corpus-a.txt"),
      fixture("corpus-b.txt"),
      "--output",
      dir,
      "--export-neox-config",
      file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("python ./deepy.py train.py");
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^ {4}eps: 1\.0e-8$/m); // PyYAML (GPT-NeoX) reads 1e-8 as a string
    const yaml = parseYaml(text) as Record<string, unknown>;
    const prefix = join(dir, "data", "corpus-a_text_document");
    expect(yaml).toMatchObject({
      "num-layers": 2,
      "hidden-size": 32,
      "num-attention-heads": 4,
      "max-position-embeddings": 64,
      "seq-length": 16,
      "train-micro-batch-size-per-gpu": 2,
      gradient_accumulation_steps: 2,
      "train-iters": 8,
      "lr-decay-iters": 8,
      "lr-decay-style": "cosine",
      warmup: 0.01,
      optimizer: { type: "Adam", params: { lr: 0.002, betas: [0.9, 0.95], eps: 1e-8 } },
      min_lr: 0.0002,
      "weight-decay": 0.1,
      gradient_clipping: 1,
      "checkpoint-factor": 4,
      "extra-save-iters": [0, 1, 2],
      seed: 1234,
      "train-data-paths": [prefix],
      "valid-data-paths": [prefix],
      "test-data-paths": [prefix],
      "data-impl": "mmap",
      "tokenizer-type": "HFTokenizer",
      save: join(dir, "neox-checkpoints"),
      load: join(dir, "neox-checkpoints"),
    });
    expect(String(yaml["vocab-file"])).toMatch(/tokenizer\.json$/);
    expect(existsSync(`${prefix}.bin`) && existsSync(`${prefix}.idx`)).toBe(true);
    expect(readdirSync(dir).filter((entry) => entry.startsWith("step"))).toEqual([]);
  });

  it("user mistakes are one line: exit 1 for bad inputs, 2 for usage", () => {
    expectOneLineError(
      run(["--data", join(root, "no-such-prefix"), "--output", join(root, "e1")]),
      1,
      "no-such-prefix.bin",
    );
    expectOneLineError(
      run(["--batch-size", "8", "--micro-batch-size", "3", "--output", join(root, "e2")]),
      2,
      "--micro-batch-size 3 must divide --batch-size 8",
    );
    expectOneLineError(
      run(["--preset", "pythia-13m", "--output", join(root, "e3")]),
      2,
      'unknown preset "pythia-13m"',
    );
    const noToken = spawnSync(
      process.execPath,
      [cli, "--repo", "me/my-pythia", "--output", join(root, "e4")],
      {
        encoding: "utf8",
        env: { ...env, HF_TOKEN: "", HF_HOME: join(root, "no-hf-home") },
      },
    );
    expectOneLineError(
      { code: noToken.status, stdout: noToken.stdout, stderr: noToken.stderr },
      1,
      "no Hugging Face token: set HF_TOKEN",
    );
    expectOneLineError(run(["--steps", "many"]), 2, "expected a non-negative integer");
    expectOneLineError(run(["--resume"]), 2, "--resume needs --output DIR");
    expect(["e1", "e2", "e3", "e4"].some((name) => existsSync(join(root, name)))).toBe(false);
  });

  it("malformed counts, repository ids and batch sizes are usage errors (exit 2) caught before tokenizing", () => {
    expectOneLineError(
      run(["--steps", "0", "--output", join(root, "u1")]),
      2,
      'expected a positive integer, got "0"',
    );
    expectOneLineError(
      run(["--steps", "-1", "--output", join(root, "u2")]),
      2,
      "expected a non-negative integer",
    );
    expectOneLineError(
      run(["--batch-size", "3", "--micro-batch-size", "2", "--output", join(root, "u3")]),
      2,
      "--micro-batch-size 2 must divide --batch-size 3",
    );
    expectOneLineError(
      run(["--lr", "0", "--output", join(root, "u4")]),
      2,
      'expected a positive number, got "0"',
    );
    const badRepo = spawnSync(process.execPath, [cli, ...tinyArgs(join(root, "u5")), "--repo", "ab"], {
      encoding: "utf8",
      env: { ...env, HF_TOKEN: "hf_test_token" },
    });
    expectOneLineError(
      { code: badRepo.status, stdout: badRepo.stdout, stderr: badRepo.stderr },
      2,
      '"ab" is not a model repository name: expected ORG/NAME',
    );
    expect(["u1", "u2", "u3", "u4", "u5"].some((name) => existsSync(join(root, name)))).toBe(false);
  });

  it("Ctrl-C stops between steps, says how to resume, exits 130", async () => {
    const dir = join(root, "interrupted");
    const args = tinyArgs(dir).map((arg) => (arg === "6" ? "500" : arg));
    const child = spawn(process.execPath, [cli, ...args], { env });
    let stderr = "";
    let interrupted = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!interrupted && /step 1: loss/.test(stderr)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(
      new RegExp(`stopped at step \\d+; resume with: pythia-train --output ${dir} --resume`),
    );
    expect(existsSync(join(dir, "step1"))).toBe(true);
  });
});

describe("--repo", () => {
  it("uploads every checkpoint as step{N} while training and prints the verification summary", async () => {
    const hub = new FakeHub(["hf_test_token"]);
    const url = await hub.start();
    try {
      const out = join(mkdtempSync(join(tmpdir(), "pythia-train-hub-")), "run");
      const child = spawn(
        process.execPath,
        [cli, ...tinyArgs(out), "--repo", "me/tiny-pythia", "--hub-url", url],
        {
          env: { ...env, HF_TOKEN: "hf_test_token" },
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(
        /hub: .*me\/tiny-pythia: 6\/6 revisions verified \(step0, step1, step2, step3, step4, step6\), main at step6/,
      );
      expect(stderr).not.toContain("hf_test_token");
    } finally {
      await hub.stop();
      rmSync(hub.root, { recursive: true, force: true });
    }
  });
});

describe("old option spellings", () => {
  it("--out and --push-to-hub still work, with a deprecation notice each", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-train-old-"));
    const result = spawnSync(
      process.execPath,
      [cli, "--push-to-hub", "me/my-pythia", "--out", join(root, "run")],
      { encoding: "utf8", env: { ...env, HF_TOKEN: "", HF_HOME: join(root, "no-hf-home") } },
    );
    expect(result.stderr.split("\n").slice(0, 2)).toEqual([
      "warning: --push-to-hub is deprecated and will be removed in the next minor version; use --repo",
      "warning: --out is deprecated and will be removed in the next minor version; use --output",
    ]);
    // The values reached the new options: the Hub upload asks for a token before anything else.
    expect(result.stderr).toContain("error: no Hugging Face token: set HF_TOKEN");
    expect(result.status).toBe(1);
  });
});

/** A failure whose last stderr line is the one error line (a backend line may come before it). */
function expectErrorLine(result: ReturnType<typeof run>, code: number, text: string) {
  expect(result.code, result.stderr).toBe(code);
  const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
  expect(errors, result.stderr).toHaveLength(1);
  expect(result.stderr.trimEnd().split("\n").at(-1)).toBe(errors[0]);
  expect(errors[0]).toContain(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("--resume pins the run's data and verifies its checkpoints", () => {
  const root = mkdtempSync(join(tmpdir(), "pythia-train-resume-"));
  const inputs = [join(root, "corpus-a.txt"), join(root, "corpus-b.txt")];
  const out = join(root, "run");
  const args = (dir: string) =>
    tinyArgs(dir).map((arg) =>
      arg === fixture("corpus-a.txt") ? inputs[0]! : arg === fixture("corpus-b.txt") ? inputs[1]! : arg,
    );
  let first: ReturnType<typeof run>;

  beforeAll(() => {
    copyFileSync(fixture("corpus-a.txt"), inputs[0]!);
    copyFileSync(fixture("corpus-b.txt"), inputs[1]!);
    first = run(args(out));
  }, 60_000);

  it("the original command with --resume reuses the run's tokens instead of tokenizing again", () => {
    expect(first.code, first.stderr).toBe(0);
    const runJson = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(runJson.dataIdentity.inputs.map((input: { path: string }) => input.path)).toEqual(inputs);
    expect(runJson.dataIdentity.tokenizer.sha256).toMatch(/^[0-9a-f]{64}$/);
    const result = run([...args(out), "--resume"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("--input is what the run tokenized (same sha256)");
    expect(result.stderr).not.toContain("pythia-train: tokenizing");
    expect(result.stderr).not.toContain(".bin/.idx");
    expect(result.stdout).toContain("had already finished its 6 steps");
    // A run written before run.json recorded its data: reused as well, and its identity recorded now.
    const older = join(root, "older");
    cpSync(out, older, { recursive: true });
    const json = JSON.parse(readFileSync(join(older, "run.json"), "utf8"));
    delete json.dataIdentity;
    writeFileSync(join(older, "run.json"), JSON.stringify(json));
    const resumed = run([...args(older), "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      `note: ${join(older, "run.json")} does not record which files the run tokenized (an older run); resuming on the data it holds, ${join(older, "data", "corpus-a_text_document")}, without tokenizing --input again`,
    );
    expect(resumed.stderr).toContain(
      `note: ${join(older, "run.json")} recorded no data identity (an older run)`,
    );
    expect(JSON.parse(readFileSync(join(older, "run.json"), "utf8")).dataIdentity.train).toEqual({
      ...runJson.dataIdentity.train,
    });
  });

  it("a corrupt newest checkpoint: says which file failed, sets it aside, and retrains from the one before", () => {
    const copy = join(root, "corrupt");
    cpSync(out, copy, { recursive: true });
    const file = join(copy, "step6", "model.safetensors");
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 1;
    writeFileSync(file, bytes);
    const result = run(["--output", copy, "--resume"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `pythia-train: warning: ${join(copy, "step6")} fails its manifest (${file}: sha256 differs from the manifest's`,
    );
    expect(result.stderr).toContain(`moved it to ${join(copy, "step6.corrupt")} and resumed from step4`);
    expect(result.stdout).toContain("from step 4 to 6");
    expect(readFileSync(join(copy, "step6", "manifest.json"), "utf8")).toBe(
      readFileSync(join(out, "step6", "manifest.json"), "utf8"),
    );
  });

  it("refuses a changed --input or other --data in one line naming the field; --allow-data-change records it", () => {
    expect(first.code, first.stderr).toBe(0);
    const runJson = readFileSync(join(out, "run.json"), "utf8");
    const recorded = JSON.parse(runJson).dataIdentity;
    const tokens = readFileSync(join(out, "data", "corpus-a_text_document.bin"));
    appendFileSync(inputs[0]!, "\nA line added after the run started.\n");
    const changed = run([...args(out), "--resume"]);
    expectErrorLine(
      changed,
      1,
      `${join(out, "run.json")}: dataIdentity: the data differs from the run's (inputs[0].bytes was ${recorded.inputs[0].bytes}, now ${statSync(inputs[0]!).size}; inputs[0].sha256 was ${recorded.inputs[0].sha256.slice(0, 12)}…`,
    );
    expect(changed.stderr).toContain("pass --allow-data-change to continue on this data");
    // Other tokens: a copy of the run's dataset whose first token is 0.
    const other = join(root, "other_text_document");
    copyFileSync(join(out, "data", "corpus-a_text_document.idx"), `${other}.idx`);
    writeFileSync(`${other}.bin`, Buffer.concat([Buffer.alloc(2), tokens.subarray(2)]));
    const otherData = run(["--output", out, "--resume", "--data", other]);
    expectErrorLine(otherData, 1, "dataIdentity: the data differs from the run's (train.binSampleSha256 was");
    // From the command line the fix is the flag, not the library's option name.
    expect(otherData.stderr).toContain("pass --allow-data-change to continue on this data");
    expect(otherData.stderr).not.toContain("allowDataChange");
    // Nothing was tokenized over the run's data, and run.json is as it was.
    expect(readFileSync(join(out, "data", "corpus-a_text_document.bin")).equals(tokens)).toBe(true);
    expect(readFileSync(join(out, "run.json"), "utf8")).toBe(runJson);

    const finished = run(["--output", out, "--resume", "--allow-data-change", "--data", other]);
    expectErrorLine(finished, 1, "the run is finished (step6 is its last step)");
    expect(finished.stderr).toContain("resume without --allow-data-change");
    expect(finished.stderr).not.toContain("allowDataChange");
    expect(readFileSync(join(out, "run.json"), "utf8")).toBe(runJson);
    // A finished run is never relabelled with data it did not train on (the trainer's test covers that
    // refusal), so continue an unfinished one: without step6, the run resumes from step4.
    rmSync(join(out, "step6"), { recursive: true });
    const allowed = run([...args(out), "--resume", "--allow-data-change"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain(`wrote ${join(out, "data", "corpus-a-2_text_document")}.bin/.idx`);
    expect(allowed.stderr).toMatch(/warning: continuing from step4 on other data \(train\.idxSha256, /);
    expect(readFileSync(join(out, "data", "corpus-a_text_document.bin")).equals(tokens)).toBe(true);
    const after = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(after.dataChanges).toHaveLength(1);
    expect(after.dataChanges[0]).toMatchObject({ step: 4, previous: recorded });
    expect(after.dataIdentity.train.prefix).toBe("data/corpus-a-2_text_document");

    expectErrorLine(
      run(["--allow-data-change", "--output", join(root, "new")]),
      2,
      "--allow-data-change needs --resume",
    );
  });
});

describe("--input that is not UTF-8", () => {
  const root = mkdtempSync(join(tmpdir(), "pythia-train-utf8-"));
  // Valid text, then 0xff (never valid in UTF-8) at byte 12, then more valid text.
  const file = join(root, "latin1.txt");
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from("First line.\n"),
      Buffer.from([0xff]),
      Buffer.from(" second line.\n"),
      readFileSync(fixture("corpus-a.txt")),
    ]),
  );
  const args = (out: string) => [
    "--neox-config",
    fixture("tiny-neox.yml"),
    "--input",
    file,
    "--output",
    out,
    "--export-neox-config",
    join(root, `${out.split("/").at(-1)}.yml`),
  ];

  it("warns with pythia-data preprocess's line and tokenizes with U+FFFD; --strict refuses it in one line, exit 1", () => {
    const warned = run(args(join(root, "lenient")));
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr.split("\n")).toContain(
      `warning: ${file}: invalid UTF-8 at byte 12 (1 invalid sequence); replaced by U+FFFD (pass --strict to refuse such input)`,
    );
    const strict = run([...args(join(root, "strict")), "--strict"]);
    expectErrorLine(strict, 1, `${file}: invalid UTF-8 at byte 12; the input must be UTF-8`);
    expect(strict.stderr).not.toContain("warning: ");
    expect(existsSync(join(root, "strict"))).toBe(false); // nothing half-made left behind
  });
});

describe("a failure while tokenizing", () => {
  const root = mkdtempSync(join(tmpdir(), "pythia-train-cleanup-"));
  // The first 100 of its 158 bytes: zstd reports an unexpected end of data.
  const truncated = join(root, "truncated.jsonl.zst");
  writeFileSync(
    truncated,
    readFileSync(
      fileURLToPath(new URL("../../../packages/dataloader/test/fixtures/corpus.jsonl.zst", import.meta.url)),
    ).subarray(0, 100),
  );

  it("leaves no half-made run directory: removes OUT (or OUT/data) when this invocation created it", () => {
    const fresh = join(root, "fresh");
    expectErrorLine(
      run(["--input", truncated, "--output", fresh]),
      1,
      "truncated.jsonl.zst: not valid zstd data",
    );
    expect(existsSync(fresh)).toBe(false);
    // An existing, empty --output stays, empty.
    const existing = join(root, "existing");
    mkdirSync(existing);
    expectErrorLine(run(["--input", truncated, "--output", existing]), 1, "not valid zstd data");
    expect(readdirSync(existing)).toEqual([]);
    const folder = join(root, "inputs");
    mkdirSync(folder);
    expectErrorLine(
      run(["--input", folder, "--output", join(root, "dir")]),
      1,
      `--input ${folder}: is a directory`,
    );
    expect(existsSync(join(root, "dir"))).toBe(false);
  });
});

describe("--resume with an --output that holds no run", () => {
  it("says there is nothing to resume there and starts a new run (the first attempt of a requeue loop)", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-train-resume-new-"));
    const out = join(root, "run");
    const args = tinyArgs(out).map((arg) => (arg === "6" ? "1" : arg));
    const result = run([...args, "--resume"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `pythia-train: note: --resume: ${out} holds no run (no run.json, no checkpoint); nothing to resume there, starting a new run`,
    );
    expect(
      readdirSync(out)
        .filter((entry) => /^step\d+$/.test(entry))
        .sort(),
    ).toEqual(["step0", "step1"]);
    // An empty folder is no run either (here exported instead of trained, to stay fast).
    const empty = join(root, "empty");
    mkdirSync(empty);
    const exported = run(["--output", empty, "--resume", "--export-neox-config", join(root, "empty.yml")]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`note: --resume: ${empty} holds no run`);
    // A run that exists is resumed without the note.
    const resumed = run(["--output", out, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toContain("note: --resume");
  }, 60_000);
});
