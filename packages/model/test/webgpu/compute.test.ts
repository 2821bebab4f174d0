// initCompute on WebGPU: the adapter report, `auto` never choosing a software adapter, and the message
// when Dawn finds no Vulkan driver. Run by `pnpm test:webgpu` with SwiftShader as the driver.
import { execFileSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { computeInfo, initCompute } from "../../src/index.js";

describe("initCompute({ backend: 'webgpu' })", () => {
  it("runs on the adapter and reports it", async () => {
    const info = await initCompute({ backend: "webgpu" });
    expect(info.backend).toBe("webgpu");
    expect(tf.getBackend()).toBe("webgpu");
    const swiftShader = /swiftshader/i.test(process.env.VK_ICD_FILENAMES ?? "");
    expect(info.webgpu?.software).toBe(swiftShader);
    expect(info.webgpu?.provider).toBe("webgpu (Dawn for Node)");
    if (swiftShader) {
      expect(info.webgpu?.description).toMatch(/swiftshader/i);
    }
    expect(info.webgpu?.limits.maxStorageBufferBindingSize).toBeGreaterThan(1 << 20);
    expect(computeInfo()).toBe(info);
    const product = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(await product.data()).toEqual(new Float32Array([11]));
  });

  it.runIf(/swiftshader/i.test(process.env.VK_ICD_FILENAMES ?? ""))(
    "auto skips a software adapter and says why",
    async () => {
      const info = await initCompute({ backend: "auto" });
      expect(info.backend).toBe("wasm");
      expect(info.skipped.find((s) => s.backend === "webgpu")?.reason).toMatch(
        /software one \(.*SwiftShader/i,
      );
    },
  );

  it("a missing Vulkan driver is one clear error", () => {
    const script =
      'import("@pythia/model").then(m => m.initCompute({ backend: "webgpu" })).then(() => process.exit(0), e => { console.log(e.message); process.exit(3); })';
    let output = "";
    try {
      execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        env: { ...process.env, VK_ICD_FILENAMES: "/nonexistent/icd.json" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
    }
    expect(output).toMatch(
      /backend "webgpu" could not start: Dawn found no Vulkan adapter .*apt-get install libvulkan1/,
    );
  });
});
