// The README example runs against the built package: pythia-14m for one step on a small random corpus.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { describe, expect, it } from "vitest";

const packagePath = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));

describe("README", () => {
  it("the opening example trains and lists its checkpoints", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const dir = mkdtempSync(join(tmpdir(), "pythia-trainer-readme-"));
    const prefix = join(dir, "corpus_text_document");
    const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
    let state = 11;
    for (let document = 0; document < 24; document++) {
      const ids = Array.from(
        { length: 120 },
        () => (state = (state * 1103515245 + 12345) % 2147483648) % 50000,
      );
      builder.addItem([...ids, 0]);
      builder.endDocument();
    }
    builder.finalize();
    const out = join(dir, "run");
    const output = execFileSync(process.execPath, [file], {
      encoding: "utf8",
      env: { ...process.env, PYTHIA_BACKEND: "wasm", STEPS: "1", DATA: prefix, OUT: out },
    });
    // Random tokens over a 50304-token vocabulary: about ln(50304) ≈ 10.8 nats per token.
    expect(output).toMatch(new RegExp(`^step 1: loss 1\\d\\.\\d{4}\\n${out}/step0\\n${out}/step1\\n$`));
  }, 120_000);
});
