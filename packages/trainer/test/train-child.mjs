// Child process for the resume test: trains with the built package and prints every event as JSON.
import { initCompute } from "@pythia/model";
import { train } from "../dist/index.js";

const [config, data, out, resume] = [
  JSON.parse(process.argv[2]),
  JSON.parse(process.argv[3]),
  process.argv[4],
  process.argv[5] === "resume",
];
await initCompute({ backend: "wasm" });
await train({
  config,
  data,
  out,
  resume,
  onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
});
