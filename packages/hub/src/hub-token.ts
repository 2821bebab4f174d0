import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { HubSyncError } from "./hub-errors.js";

/** Parameters of `resolveToken`. */
export interface ResolveTokenParams {
  /** An explicit token; wins over the environment and the token file. */
  token?: string;
  /** Environment to read `HF_TOKEN` and `HF_HOME` from. @default process.env */
  env?: Record<string, string | undefined>;
}

/** Where the Hugging Face token file lives: `$HF_HOME/token`, default `~/.cache/huggingface/token`. */
export function tokenFilePath(env: Record<string, string | undefined> = process.env): string {
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  return join(home, "token");
}

/**
 * The access token: `token`, else `HF_TOKEN`, else the token file written by `huggingface-cli login`.
 * Throws `HubSyncError("TOKEN")` when none is found or it does not start with `hf_`. The token never
 * appears in a message.
 */
export function resolveToken(params: ResolveTokenParams = {}): string {
  const env = params.env ?? process.env;
  const file = tokenFilePath(env);
  let token = params.token ?? env.HF_TOKEN;
  let source = params.token !== undefined ? "the token option" : "HF_TOKEN";
  if (token === undefined || token.trim() === "") {
    try {
      token = readFileSync(file, "utf8");
      source = file;
    } catch {
      throw new HubSyncError(
        "TOKEN",
        `no Hugging Face token: set HF_TOKEN, or run "huggingface-cli login" to write ${file} (create a write token at https://huggingface.co/settings/tokens)`,
      );
    }
  }
  token = token.trim();
  if (!token.startsWith("hf_")) {
    throw new HubSyncError(
      "TOKEN",
      `the token from ${source} is not a Hugging Face access token (it must start with "hf_"); create one at https://huggingface.co/settings/tokens`,
    );
  }
  return token;
}
