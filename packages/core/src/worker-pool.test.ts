import { describe, expect, it } from "vitest";
import { startWorkerPool } from "./worker-pool.js";

// The worker script imports the built package (dist), as installed users' workers do.
const url = new URL("../test/fixtures/echo-worker.mjs", import.meta.url);

describe("worker pool", () => {
  it("answers requests across workers in any order", async () => {
    const pool = await startWorkerPool<number, number>({ url, size: 2, name: "echo" });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
      expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i));
    } finally {
      await pool.close();
    }
  });

  it("rejects a failed request alone, and everything pending when a worker dies", async () => {
    const pool = await startWorkerPool<unknown, number>({ url, size: 1, name: "echo" });
    try {
      await expect(pool.run("boom")).rejects.toMatchObject({
        code: "WORKER_REQUEST",
        message: "echo: bad request boom",
      });
      expect(await pool.run(4)).toBe(8);
      await expect(pool.run("crash")).rejects.toMatchObject({
        code: "WORKER",
        message: expect.stringMatching(/echo: worker exited \(code 3\)/),
      });
    } finally {
      await pool.close();
    }
  });

  it("sends nothing to a dead worker, rejects a non-Error throw, and never hangs at start", async () => {
    const pool = await startWorkerPool<unknown, number>({ url, size: 2, name: "echo" });
    try {
      await expect(pool.run("string")).rejects.toMatchObject({
        code: "WORKER_REQUEST",
        message: "echo: a bare string",
      });
      expect(await pool.run("late-crash")).toBe(0);
      // Both workers must have seen a request by now; whichever crashed gets nothing more once the pool
      // has seen its error event, which a loaded machine delivers late: leave it a generous moment.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const answers = await Promise.all([1, 2, 3].map((n) => pool.run(n)));
      expect(answers).toEqual([2, 4, 6]);
    } finally {
      await pool.close();
    }
    await expect(
      startWorkerPool({ url, size: 2, name: "echo", workerData: "exit-before-ready" }),
    ).rejects.toMatchObject({ code: "WORKER", message: "echo: worker exited (code 0)" });
  });

  it("refuses a bad size", async () => {
    await expect(startWorkerPool({ url, size: 0, name: "echo" })).rejects.toThrow("positive integer");
  });
});
