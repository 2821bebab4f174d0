// Opt-in: runs only with HF_TOKEN set (a write token). Pushes a tiny run to a temporary private
// repository on huggingface.co (or HF_HUB_URL), pulls and verifies it, then deletes the repository.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteRepo, whoAmI } from "@huggingface/hub";
import { describe, expect, it } from "vitest";
import { pull, pushRun, verifyRepo } from "../src/index.js";
import { fakeRun, readTree } from "./helpers.js";

const token = process.env.HF_TOKEN;

describe.runIf(token !== undefined && token !== "")("live Hub (HF_TOKEN)", () => {
  it("push, pull and verify a 3-checkpoint run", { timeout: 300_000 }, async () => {
    const hubUrl = process.env.HF_HUB_URL;
    const accessToken = token as string;
    const user = await whoAmI({ accessToken, ...(hubUrl ? { hubUrl } : {}) });
    const repo = `${user.name}/pythia-hub-test-${Date.now()}`;
    const run = await fakeRun();
    try {
      const summary = await pushRun({ dir: run, repo, accessToken, hubUrl, private: true });
      expect(summary.revisions.every((revision) => revision.check.ok)).toBe(true);
      const pulled = await pull({
        repo,
        accessToken,
        hubUrl,
        revisions: "all",
        cacheDir: mkdtempSync(join(tmpdir(), "live-")),
      });
      for (const revision of pulled) {
        expect(readTree(revision.dir).get("model.safetensors")).toEqual(
          readFileSync(join(run, revision.revision, "model.safetensors")),
        );
      }
      expect((await verifyRepo({ repo, accessToken, hubUrl })).ok).toBe(true);
    } finally {
      await deleteRepo({ repo, accessToken, ...(hubUrl ? { hubUrl } : {}) }).catch(() => undefined);
    }
  });
});
