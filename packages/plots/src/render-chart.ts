/**
 * Charts as echarts server-side SVG (no DOM, no native code), and PNG through `@resvg/resvg-js` when
 * that optional dependency loads; otherwise only the SVG is written and the reason is returned.
 */
import { createRequire } from "node:module";
import { writeFileAtomic } from "@pythia/core";
import type * as Echarts from "echarts";

let echarts: typeof Echarts | undefined;

/**
 * echarts (about 60 MB installed, 1 MB of code to parse) is loaded on the first chart, not when this
 * package is imported: most users of the packages that depend on it never draw one. Its CommonJS build
 * (every chart type and the SVG renderer) keeps `renderChartSvg` synchronous.
 */
function loadEcharts(): typeof Echarts {
  echarts ??= createRequire(import.meta.url)("echarts") as typeof Echarts;
  return echarts;
}

/** Renders an echarts option to an SVG string (white background, no animation). */
export function renderChartSvg(
  option: Record<string, unknown>,
  size: { width?: number; height?: number } = {},
): string {
  const instance = loadEcharts().init(null, null, {
    renderer: "svg",
    ssr: true,
    width: size.width ?? 800,
    height: size.height ?? 600,
  });
  try {
    instance.setOption({ animation: false, backgroundColor: "#ffffff", ...option });
    return instance.renderToSVGString();
  } finally {
    instance.dispose();
  }
}

/** Where `writePlot` wrote; `png` is null (with the reason) when @resvg/resvg-js is not available. */
export interface WrittenPlot {
  svg: string;
  png: string | null;
  pngSkipped?: string;
}

/**
 * Writes `<base>.svg` and, when @resvg/resvg-js loads, `<base>.png`, each replaced whole (a temporary
 * sibling renamed onto it): never a half-written chart.
 */
export async function writePlot(base: string, svg: string): Promise<WrittenPlot> {
  writeFileAtomic(`${base}.svg`, svg);
  try {
    const { Resvg } = await import("@resvg/resvg-js");
    const png = new Resvg(svg, { fitTo: { mode: "original" }, font: { loadSystemFonts: true } })
      .render()
      .asPng();
    writeFileAtomic(`${base}.png`, png);
    return { svg: `${base}.svg`, png: `${base}.png` };
  } catch (error) {
    return { svg: `${base}.svg`, png: null, pngSkipped: (error as Error).message };
  }
}

/** One line of a line chart. */
export interface LineSeries {
  name: string;
  points: ReadonlyArray<readonly [x: number, y: number]>;
}

/** A line chart of one or more series (e.g. a loss curve, or a metric by checkpoint step). */
export function lineChartSvg(params: {
  title: string;
  xName: string;
  yName: string;
  series: readonly LineSeries[];
  logX?: boolean;
}): string {
  return renderChartSvg({
    title: { text: params.title, left: "center" },
    legend: { top: 30 },
    grid: { top: 70, left: 70, right: 30, bottom: 60 },
    xAxis: { type: params.logX ? "log" : "value", name: params.xName, nameLocation: "middle", nameGap: 30 },
    yAxis: { type: "value", name: params.yName, scale: true },
    series: params.series.map((line) => ({
      type: "line",
      name: line.name,
      showSymbol: line.points.length <= 50,
      data: line.points.map(([x, y]) => [x, y]),
    })),
  });
}
