import { InvalidArgumentError, Option } from "commander";
import { DTYPES } from "./dtype.js";

/** Commander parser for a non-negative integer option. */
export function integer(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return parsed;
}

/** `--dtype` restricted to the GPT-NeoX dtype names. */
export function dtypeOption(defaultValue?: string): Option {
  const option = new Option("--dtype <dtype>", "element type").choices(DTYPES.map((dtype) => dtype.name));
  return defaultValue === undefined ? option : option.default(defaultValue);
}
