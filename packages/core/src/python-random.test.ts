import { describe, expect, it } from "vitest";
import { PythonRandom } from "./index.js";

// Expected values printed by CPython 3.11's `random` module.
describe("PythonRandom (CPython MT19937)", () => {
  it("random(), getrandbits and seeds above 2^32", () => {
    const rnd = new PythonRandom(42);
    expect(rnd.random()).toBe(0.6394267984578837);
    expect(rnd.getrandbits(32)).toBe(107420369);
    expect(new PythonRandom(2 ** 40 + 5).random()).toBe(0.5043802970418443);
  });

  it("shuffle, as the harness orders docs", () => {
    const x = Array.from({ length: 10 }, (_, i) => i);
    new PythonRandom(42).shuffle(x);
    expect(x).toEqual([7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
    const lambada = Array.from({ length: 5153 }, (_, i) => i);
    new PythonRandom(42).shuffle(lambada);
    expect(lambada.slice(0, 8)).toEqual([95, 4263, 3200, 3219, 379, 296, 3703, 3291]);
  });

  it("sample (pool and set algorithms) and choices", () => {
    const rnd = new PythonRandom(42);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(rnd.sample(range(100), 5)).toEqual([81, 14, 3, 94, 35]);
    expect(rnd.sample(range(30), 7)).toEqual([7, 29, 4, 23, 3, 21, 26]);
    expect(rnd.sample(range(5000), 6)).toEqual([4467, 712, 4837, 3456, 260, 244]);
    expect(new PythonRandom(3).choices(range(1000), 5)).toEqual([237, 544, 369, 603, 625]);
  });
});
