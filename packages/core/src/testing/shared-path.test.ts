import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { sharedData, sharedFixture, sharedPath } from "./shared-path.js";

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["PYTHIA_SHARED_FIXTURES", "PYTHIA_SHARED_DATA", "CI"]) {
    if (saved[name] === undefined) {
      delete process.env[name];
    } else {
      process.env[name] = saved[name];
    }
  }
});

function folderWith(file: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-shared-"));
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", file), "x");
  return dir;
}

describe("sharedPath", () => {
  it("reads each folder's environment variable", () => {
    const fixtures = folderWith("a.bin");
    const data = folderWith("b.txt");
    try {
      process.env.PYTHIA_SHARED_FIXTURES = fixtures;
      process.env.PYTHIA_SHARED_DATA = data;
      delete process.env.CI;
      expect(sharedFixture("sub/a.bin")).toBe(join(fixtures, "sub/a.bin"));
      expect(sharedData("sub/b.txt")).toBe(join(data, "sub/b.txt"));
      expect(sharedFixture("sub/b.txt")).toBeNull();
      expect(sharedPath({ folder: "data", relative: "sub" })).toBe(join(data, "sub"));
    } finally {
      rmSync(fixtures, { recursive: true });
      rmSync(data, { recursive: true });
    }
  });

  it("fails instead of skipping under CI=true, naming the path and the variable", () => {
    const fixtures = folderWith("a.bin");
    try {
      process.env.PYTHIA_SHARED_FIXTURES = fixtures;
      process.env.CI = "true";
      expect(() => sharedFixture("missing.bin")).toThrow(
        `${join(fixtures, "missing.bin")} is missing: set PYTHIA_SHARED_FIXTURES to the shared fixtures folder (CI must not skip these tests)`,
      );
      expect(sharedFixture("sub/a.bin")).toBe(join(fixtures, "sub/a.bin"));
    } finally {
      rmSync(fixtures, { recursive: true });
    }
  });

  it("defaults to ../shared beside the repository", () => {
    delete process.env.PYTHIA_SHARED_DATA;
    const repo = resolve(fileURLToPath(import.meta.url), "../../../../..");
    const expected = join(repo, "../shared/data", "no-such-file");
    process.env.CI = "true";
    expect(() => sharedData("no-such-file")).toThrow(`${expected} is missing: set PYTHIA_SHARED_DATA`);
  });
});
