export {
  lineChartSvg,
  type LineSeries,
  renderChartSvg,
  writePlot,
  type WrittenPlot,
} from "./render-chart.js";
