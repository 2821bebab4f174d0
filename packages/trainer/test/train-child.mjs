// Child process for the kill tests: trains with the built package and prints every event as JSON.
// argv: CONFIG_JSON DATA_JSON OUT [OPTIONS_JSON | "resume"]
// OPTIONS_JSON: { resume?: boolean, killOn?: { type, step } } — with killOn, the child SIGKILLs itself
// inside the event handler, i.e. at that exact point of the loop (after a checkpoint's rename, before
// its validation, for { type: "checkpoint-written", step: N }).
import { initCompute } from "@pythia/model";
import { train } from "../dist/index.js";

const [config, data, out] = [JSON.parse(process.argv[2]), JSON.parse(process.argv[3]), process.argv[4]];
const options =
  process.argv[5] === undefined
    ? {}
    : process.argv[5] === "resume"
      ? { resume: true }
      : JSON.parse(process.argv[5]);
await initCompute({ backend: "wasm" });
await train({
  config,
  data,
  out,
  resume: options.resume === true,
  onEvent: (event) => {
    process.stdout.write(`${JSON.stringify(event)}\n`);
    if (
      options.killOn !== undefined &&
      event.type === options.killOn.type &&
      event.step === options.killOn.step
    ) {
      process.kill(process.pid, "SIGKILL");
    }
  },
});
