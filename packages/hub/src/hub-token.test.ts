import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HubSyncError } from "./hub-errors.js";
import { resolveToken, tokenFilePath } from "./hub-token.js";

describe("resolveToken", () => {
  const home = mkdtempSync(join(tmpdir(), "hf-home-"));

  it("prefers the option, then HF_TOKEN, then $HF_HOME/token", () => {
    expect(resolveToken({ token: "hf_a", env: { HF_TOKEN: "hf_b" } })).toBe("hf_a");
    expect(resolveToken({ env: { HF_TOKEN: "hf_b", HF_HOME: home } })).toBe("hf_b");
    writeFileSync(join(home, "token"), "hf_from_file\n");
    expect(resolveToken({ env: { HF_HOME: home } })).toBe("hf_from_file");
  });

  it("defaults to ~/.cache/huggingface/token", () => {
    expect(tokenFilePath({})).toBe(join(homedir(), ".cache", "huggingface", "token"));
    expect(tokenFilePath({ HF_HOME: "/x" })).toBe("/x/token");
  });

  it("a missing or malformed token is a TOKEN error that does not echo it", () => {
    const empty = mkdtempSync(join(tmpdir(), "hf-home-"));
    mkdirSync(join(empty, "sub"));
    expect(() => resolveToken({ env: { HF_HOME: empty } })).toThrow(/no Hugging Face token: set HF_TOKEN/);
    try {
      resolveToken({ env: { HF_TOKEN: "ghp_secret" } });
      expect.unreachable();
    } catch (error) {
      expect(HubSyncError.isInstance(error) && error.code).toBe("TOKEN");
      expect((error as Error).message).toContain('must start with "hf_"');
      expect((error as Error).message).not.toContain("ghp_secret");
    }
  });
});
