import { Option } from "commander";
import { DTYPES } from "./dtype.js";

/** Commander parser for a non-negative integer option. */
export { integerArgument as integer } from "@pythia/core/cli";

/** `--dtype` restricted to the GPT-NeoX dtype names. */
export function dtypeOption(defaultValue?: string): Option {
  const option = new Option("--dtype <dtype>", "element type").choices(DTYPES.map((dtype) => dtype.name));
  return defaultValue === undefined ? option : option.default(defaultValue);
}
