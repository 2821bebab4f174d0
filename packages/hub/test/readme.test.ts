// The README example runs against the built package and the loopback Hub.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHub } from "./fake-hub.js";
import { fakeRun, packagePath, repoName, TOKEN } from "./helpers.js";

const fake = new FakeHub([TOKEN]);
beforeAll(() => fake.start());
afterAll(() => fake.stop());

describe("README", () => {
  it("the opening example pushes a run, and a second run skips every revision", async () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const env = {
      ...process.env,
      HF_TOKEN: TOKEN,
      HUB_URL: fake.url,
      RUN_DIR: await fakeRun(),
      REPO: repoName(),
    };
    const first = await promisify(execFile)(process.execPath, [file], { env });
    // Revisions upload two at a time, so their "verified" events come in either order.
    const lines = first.stdout.split("\n");
    expect(lines.slice(0, 3).sort()).toEqual(["step0 verified", "step1 verified", "step2 verified"]);
    expect(lines.slice(3).join("\n")).toBe("step0:uploaded step1:uploaded step2:uploaded\nverified\n");
    const second = await promisify(execFile)(process.execPath, [file], { env });
    expect(second.stdout).toBe("step0:skipped step1:skipped step2:skipped\nverified\n");
  });
});
