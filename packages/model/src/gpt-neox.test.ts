// Logits, losses and gradients against HF transformers 4.40.2 (test/fixtures/HF-FIXTURES.md).
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHfConfig, GPTNeoXModel, initCompute, nextTokenLoss, readSafetensors } from "./index.js";
import { fixturePath, readJsonFixture, sharedFixture } from "../test/helpers.js";

// The same references hold on every backend: `pnpm test:webgpu` runs this file on WebGPU (SwiftShader in CI).
const backend = (process.env.PYTHIA_TEST_BACKEND ?? "wasm") as "wasm" | "webgpu";

beforeAll(async () => {
  await initCompute({ backend });
});

async function loadFixtureModel(dir: string): Promise<GPTNeoXModel> {
  const config = fromHfConfig(
    JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(`${dir}/config.json`, "utf8"))),
    `${dir}/config.json`,
  );
  const { tensors } = await readSafetensors(`${dir}/model.safetensors`);
  return GPTNeoXModel.fromTensors({ config, tensors, source: dir });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return max;
}

const logitCases = [
  "pythia-micro",
  "tiny-seqres-v512",
  "tiny-v512-f32",
  "tiny-v512-f16",
  "tiny-v512-bf16",
].map((name) => [name, fixturePath(name)] as const);
const tiny = sharedFixture("model/pythia-tiny");
if (tiny !== null) {
  logitCases.push(["pythia-tiny (shared, full vocab)", tiny]);
}

describe.each(logitCases)("%s matches transformers", (_name, dir) => {
  it("logits within 1e-4, loss and token losses within 1e-5, hidden states", async () => {
    const model = await loadFixtureModel(dir);
    const { input_ids: ids } = JSON.parse(
      await import("node:fs").then((fs) => fs.readFileSync(`${dir}/tokens.json`, "utf8")),
    ) as { input_ids: number[][] };
    const reference = (await readSafetensors(`${dir}/logits.safetensors`)).tensors;
    const before = tf.memory().numTensors;
    const out = model.forward(ids, { outputHiddenStates: true });
    const logits = (await out.logits.data()) as Float32Array;
    const diff = maxAbsDiff(logits, reference.get("logits")?.data as Float32Array);
    expect(diff, `max |Δlogit| = ${diff}`).toBeLessThanOrEqual(1e-4);
    const { loss, tokenLosses } = nextTokenLoss(out.logits, tf.tensor2d(ids, undefined, "int32"));
    const refLoss = (reference.get("loss")?.data as Float32Array)[0] as number;
    expect(Math.abs((await loss.data())[0]! - refLoss)).toBeLessThanOrEqual(1e-5);
    expect(
      maxAbsDiff(
        (await tokenLosses.data()) as Float32Array,
        reference.get("token_losses")?.data as Float32Array,
      ),
    ).toBeLessThanOrEqual(1e-5);
    for (let i = 0; i < (out.hiddenStates?.length ?? 0); i++) {
      const ref = reference.get(`hidden_states.${i}`);
      if (ref !== undefined) {
        const hd = maxAbsDiff((await out.hiddenStates![i]!.data()) as Float32Array, ref.data as Float32Array);
        expect(hd, `hidden_states.${i} max |Δ| = ${hd}`).toBeLessThanOrEqual(1e-4);
      }
    }
    tf.dispose([out.logits, ...(out.hiddenStates ?? []), loss, tokenLosses]);
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(1); // the int32 labels tensor above
    model.dispose();
  });
});

describe("gradients (pythia-micro)", () => {
  it("d loss / d parameter within 1e-5 + 1e-3·|g| for every parameter", async () => {
    const dir = fixturePath("pythia-micro");
    const model = await loadFixtureModel(dir);
    const { input_ids: ids } = readJsonFixture<{ input_ids: number[][] }>("pythia-micro/tokens.json");
    const reference = (await readSafetensors(`${dir}/grads.safetensors`)).tensors;
    const input = tf.tensor2d(ids, undefined, "int32");
    const names = Object.keys(model.params);
    const { value, grads } = tf.variableGrads(
      () => model.loss(input).loss,
      names.map((name) => model.params[name]!),
    );
    expect(
      Math.abs((await value.data())[0]! - readJsonFixture<{ loss: number }>("pythia-micro/grads.json").loss),
    ).toBeLessThan(1e-5);
    for (const name of names) {
      const ours = (await grads[model.params[name]!.name]!.data()) as Float32Array;
      const ref = reference.get(name)?.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < ours.length; i++) {
        worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!) - (1e-5 + 1e-3 * Math.abs(ref[i]!)));
      }
      expect(worst, `${name}: excess over tolerance ${worst}`).toBeLessThanOrEqual(0);
    }
    tf.dispose([value, input, ...Object.values(grads)]);
    model.dispose();
  });
});
