import { describe, expect, it } from "vitest";
import { argmax, bootstrapStderr, meanStderr, perplexity } from "./index.js";

// Expected values computed with the harness's metrics.py functions under CPython 3.11.
describe("metrics (harness v0.3.0 metrics.py)", () => {
  const lls = [-1.5, -2.25, -0.5, -3.0, -1.0];

  it("perplexity and mean_stderr", () => {
    expect(perplexity(lls)).toBe(5.206979827179849);
    expect(meanStderr([1, 0, 0, 1, 1])).toBe(0.24494897427831783);
  });

  it("bootstrap_stderr: chunk i draws with random.Random(i).choices", () => {
    expect(bootstrapStderr({ metric: perplexity, values: lls, iterations: 3000 })).toBe(2.3689781037109996);
  });

  it("argmax: first index wins ties, like np.argmax", () => {
    expect(argmax([-2, -1, -1])).toBe(1);
    expect(argmax([-3])).toBe(0);
  });
});
