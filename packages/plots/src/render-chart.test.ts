import { linkSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lineChartSvg, writePlot } from "./index.js";

describe("lineChartSvg", () => {
  it("renders an SVG with the title and every series, and writes it", async () => {
    const svg = lineChartSvg({
      title: "loss",
      xName: "step",
      yName: "nats",
      series: [
        {
          name: "train",
          points: [
            [1, 4],
            [2, 3],
            [3, 2.5],
          ],
        },
        { name: "validation", points: [[3, 2.7]] },
      ],
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("loss");
    expect(svg).toContain("validation");
    const dir = mkdtempSync(join(tmpdir(), "pythia-plots-"));
    const written = await writePlot(join(dir, "loss"), svg);
    expect(readFileSync(written.svg, "utf8")).toBe(svg);
    if (written.png !== null) {
      expect(readFileSync(written.png).subarray(1, 4).toString()).toBe("PNG");
    } else {
      expect(written.pngSkipped).toBeTruthy();
    }
  });
});

describe("writePlot", () => {
  it("replaces the chart files whole, leaving no temporary file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-plots-"));
    const base = join(dir, "acc");
    writeFileSync(`${base}.svg`, "old chart");
    linkSync(`${base}.svg`, join(dir, "old.svg")); // a second name: a write in place would change it too
    const svg = lineChartSvg({
      title: "acc",
      xName: "step",
      yName: "acc",
      series: [{ name: "acc", points: [[0, 0.5]] }],
    });
    const written = await writePlot(base, svg);
    expect(readFileSync(written.svg, "utf8")).toBe(svg);
    expect(readFileSync(join(dir, "old.svg"), "utf8")).toBe("old chart");
    expect(readdirSync(dir).sort()).toEqual(
      written.png === null ? ["acc.svg", "old.svg"] : ["acc.png", "acc.svg", "old.svg"],
    );
  });
});

describe("loading", () => {
  it("importing the package does not load echarts; the first chart does", async () => {
    const { execFileSync } = await import("node:child_process");
    const { fileURLToPath } = await import("node:url");
    const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const script = `
      import Module from "node:module";
      const loaded = () => Object.keys(Module._cache).some((path) => path.includes("/echarts/"));
      const plots = await import(${JSON.stringify(entry)});
      const before = loaded();
      plots.renderChartSvg({ xAxis: { type: "value" }, yAxis: { type: "value" }, series: [{ type: "line", data: [[0, 1]] }] });
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    expect(JSON.parse(output)).toEqual({ before: false, after: true });
  });
});
