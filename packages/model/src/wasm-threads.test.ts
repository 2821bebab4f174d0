// initCompute({ threads }): tfjs' multi-threaded wasm build under Node (wasm-threads.ts). Results must not
// depend on the thread count: XNNPACK gives each output tile to one thread, so every sum runs in the
// same order, and these tests ask for bit-identical numbers.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { computeInfo, GPTNeoXModel, initCompute, ModelError, parseConfig, readSafetensors } from "./index.js";
import { fixturePath, packagePath } from "../test/helpers.js";

afterAll(async () => {
  await initCompute({ backend: "wasm", threads: 1 });
});

// Wide enough that the products are XNNPACK's and split across threads.
const config = parseConfig({
  vocabSize: 1024,
  hiddenSize: 256,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 1024,
});
const ids = [0, 1].map((b) => Array.from({ length: 64 }, (_, t) => (b * 389 + t * 97) % 1024));

/** Logits, loss and every gradient of one training step of a freshly initialised model, on the host. */
async function trainingStep(): Promise<{ logits: Float32Array; loss: number; grads: Float32Array[] }> {
  const model = GPTNeoXModel.initialize({ config, seed: 11 });
  const { logits } = model.forward(ids);
  const logitValues = (await logits.data()) as Float32Array;
  logits.dispose();
  const variables = model.specs.map((spec) => model.params[spec.name] as tf.Variable);
  const { value, grads } = tf.variableGrads(() => model.loss(ids).loss, variables);
  const result = {
    logits: logitValues,
    loss: (await value.data())[0] as number,
    grads: await Promise.all(variables.map(async (v) => (await grads[v.name]?.data()) as Float32Array)),
  };
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return result;
}

/** Largest |a − b| over all elements (NaN-safe: a NaN anywhere gives NaN). */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    max = d > max || Number.isNaN(d) ? d : max;
  }
  return max;
}

function expectSameStep(
  actual: Awaited<ReturnType<typeof trainingStep>>,
  expected: Awaited<ReturnType<typeof trainingStep>>,
  label: string,
): void {
  const logitDiff = maxAbsDiff(actual.logits, expected.logits);
  expect(logitDiff, `${label}: max |Δlogit| = ${logitDiff}`).toBe(0);
  expect(actual.loss, `${label}: loss`).toBe(expected.loss);
  actual.grads.forEach((grad, i) => {
    const diff = maxAbsDiff(grad, expected.grads[i] as Float32Array);
    expect(diff, `${label}: max |Δgrad| of parameter ${i} = ${diff}`).toBe(0);
  });
}

describe("initCompute({ threads })", () => {
  it("2 threads report 2 and give the 1-thread logits and gradients bit for bit, run after run", async () => {
    const one = await initCompute({ backend: "wasm", threads: 1 });
    expect(one.wasm).toEqual({ simd: true, threads: 1 });
    const reference = await trainingStep();

    const two = await initCompute({ backend: "wasm", threads: 2 });
    expect(two.wasm).toEqual({ simd: true, threads: 2 });
    expect(computeInfo()?.wasm?.threads).toBe(2);
    const first = await trainingStep();
    const second = await trainingStep();
    expectSameStep(first, reference, "2 threads vs 1");
    expectSameStep(second, first, "2 threads, second run vs first");
    expect(tf.memory().numTensors).toBe(0);

    // Same count again: nothing restarts, and tensors may exist.
    const kept = tf.ones([2]);
    expect((await initCompute({ backend: "wasm", threads: 2 })).wasm?.threads).toBe(2);
    kept.dispose();
  });

  it("a different count while tensors exist is an error that says what to do; the backend keeps running", async () => {
    await initCompute({ backend: "wasm", threads: 2 });
    const live = tf.ones([3]);
    const error = await initCompute({ backend: "wasm", threads: 1 }).catch((caught: unknown) => caught);
    expect(ModelError.isInstance(error) && error.code).toBe("BACKEND");
    expect((error as Error).message).toMatch(
      /already runs 2 thread\(s\) and 1 tensor\(s\) exist.*pass threads: 1 to the first initCompute/,
    );
    const sum = tf.sum(live);
    expect(Array.from(await sum.data())).toEqual([3]);
    tf.dispose([live, sum]);
    expect(tf.memory().numTensors).toBe(0);
    expect((await initCompute({ backend: "wasm", threads: 1 })).wasm?.threads).toBe(1);
  });

  it("honours PYTHIA_WASM_THREADS and rejects bad counts", async () => {
    process.env.PYTHIA_WASM_THREADS = "2";
    try {
      expect((await initCompute({ backend: "wasm" })).wasm?.threads).toBe(2);
      expect((await initCompute({ backend: "wasm", threads: 1 })).wasm?.threads).toBe(1); // the option wins
      process.env.PYTHIA_WASM_THREADS = "two";
      await expect(initCompute({ backend: "wasm" })).rejects.toThrow(
        /PYTHIA_WASM_THREADS="two" is not a whole number ≥ 1/,
      );
    } finally {
      delete process.env.PYTHIA_WASM_THREADS;
    }
    await expect(initCompute({ backend: "wasm", threads: 0 })).rejects.toThrow(
      /threads must be a whole number/,
    );
  });
});

describe("pythia-model --threads (a child process)", () => {
  const cli = packagePath("dist/cli.js");
  const dir = mkdtempSync(join(tmpdir(), "pythia-wasm-threads-"));

  function logits(threads: number, nodeOptions: string[] = []) {
    const out = join(dir, `logits-${threads}-${nodeOptions.length}.safetensors`);
    const started = Date.now();
    const result = spawnSync(
      process.execPath,
      [
        ...nodeOptions,
        cli,
        "logits",
        "--checkpoint",
        fixturePath("pythia-micro"),
        "--tokens",
        fixturePath("pythia-micro/tokens.json"),
        "--output",
        out,
        "--backend",
        "wasm",
        "--threads",
        String(threads),
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    return { ...result, out, seconds: (Date.now() - started) / 1000 };
  }

  it("exits on its own with 2 threads running, and writes the 1-thread logits", async () => {
    const two = logits(2);
    expect(two.signal, `killed after ${two.seconds} s: the pthread workers kept it alive`).toBeNull();
    expect(two.status, two.stderr).toBe(0);
    expect(two.stderr).toContain("2 threads");
    const one = logits(1);
    expect(one.status, one.stderr).toBe(0);
    const [a, b] = await Promise.all([readSafetensors(two.out), readSafetensors(one.out)]);
    const diff = maxAbsDiff(
      a.tensors.get("logits")?.data as Float32Array,
      b.tensors.get("logits")?.data as Float32Array,
    );
    expect(diff, `max |Δlogit| = ${diff}`).toBe(0);
  });

  it("falls back to 1 thread, saying why, when the threaded build cannot start", () => {
    const result = logits(2, ["--no-harmony-sharedarraybuffer"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("1 thread)");
    expect(result.stderr).toContain(
      "the multi-threaded wasm build could not start (SharedArrayBuffer is not available); running 1 thread",
    );
  });
});
