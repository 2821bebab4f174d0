import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendMetrics, readMetrics, resetMetrics, truncateMetrics, type MetricsWarning } from "../run.js";

const train = (step: number) => ({
  type: "train" as const,
  step,
  loss: 5 - step / 10,
  lr: 1e-3,
  gradNorm: 1,
  tokensPerSecond: 100,
});

describe("metrics.jsonl", () => {
  it("round-trips records and reads a missing file as none", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-metrics-"));
    expect(readMetrics({ dir })).toEqual([]);
    resetMetrics(dir);
    appendMetrics(dir, train(1));
    appendMetrics(dir, { type: "eval", step: 1, loss: 4, perplexity: Math.exp(4) });
    expect(readMetrics({ dir })).toEqual([
      train(1),
      { type: "eval", step: 1, loss: 4, perplexity: Math.exp(4) },
    ]);
  });

  it("skips a torn last line with a warning, and fails on a bad line elsewhere", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-metrics-"));
    appendMetrics(dir, train(1));
    appendMetrics(dir, train(2));
    appendFileSync(join(dir, "metrics.jsonl"), '{"type":"train","step":3,"lo');
    const warnings: MetricsWarning[] = [];
    expect(readMetrics({ dir, onWarning: (warning) => warnings.push(warning) })).toEqual([
      train(1),
      train(2),
    ]);
    expect(warnings).toEqual([
      {
        type: "metrics-line-skipped",
        file: join(dir, "metrics.jsonl"),
        line: 3,
        reason: expect.stringMatching(/cut short/),
      },
    ]);
    // On resume the torn line goes, and so do records after the checkpoint.
    expect(truncateMetrics({ dir, step: 1 })).toEqual([
      expect.objectContaining({ type: "metrics-line-skipped", line: 3 }),
    ]);
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toBe(`${JSON.stringify(train(1))}\n`);

    writeFileSync(
      join(dir, "metrics.jsonl"),
      `${JSON.stringify(train(1))}\nnot json\n${JSON.stringify(train(2))}\n`,
    );
    expect(() => readMetrics({ dir })).toThrow(/metrics\.jsonl:2: not a metrics record \(not JSON\)/);
    writeFileSync(join(dir, "metrics.jsonl"), `{"type":"train","step":1}\n`);
    expect(() => readMetrics({ dir })).toThrow(/metrics\.jsonl:1: not a metrics record \(loss: /);
  });
});
