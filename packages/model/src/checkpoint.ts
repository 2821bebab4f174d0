import { existsSync, mkdirSync, readFileSync, rmSync, copyFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { renameDurable } from "@pythia/core";
import { bundledTokenizerPath } from "@pythia/tokenizer/node";
import { fromHfConfig, toHfConfig } from "./config-convert.js";
import { checkWeightHeaders, isParameterToRead } from "./check-weight-headers.js";
import { manifestFileCheck } from "./manifest-file-check.js";
import { ModelError } from "./model-errors.js";
import { GPTNeoXModel } from "./model.js";
import { writeSafetensors, writeShardedSafetensors } from "./safetensors.js";
import { loadWeightTensors } from "./weight-files.js";

/** Parameters of `loadCheckpoint`. */
export interface LoadCheckpointParams {
  /**
   * A Hugging Face snapshot directory: `config.json` plus `model.safetensors` (or shards + index), or
   * `pytorch_model.bin` (or shards + index); see `loadWeightTensors` for the order.
   */
  dir: string;
  /** Create trainable variables. @default true */
  trainable?: boolean;
  /**
   * When `dir` holds a `manifest.json` (a `@pythia/trainer` checkpoint), check the size and sha256 of
   * every file read against it before reading it (one streaming pass). `false` skips the check.
   * @default true
   */
  verify?: boolean;
}

/**
 * Loads a `GPTNeoXForCausalLM` checkpoint directory (a local HF snapshot such as
 * `~/.cache/huggingface/hub/models--EleutherAI--pythia-70m/snapshots/<sha>` or one we saved).
 * Files listed in a `manifest.json` are verified first (see `verify`); tensor names, shapes and
 * dtypes are checked against `config.json` from the file headers, before any tensor data is read.
 * F16/BF16 weights are converted to float32.
 * @throws ModelError naming the directory and the file for a missing or malformed config or weights,
 * and (`CHECKPOINT_CORRUPT`) for a file that does not match the manifest.
 */
export async function loadCheckpoint(params: LoadCheckpointParams): Promise<GPTNeoXModel> {
  const configPath = join(params.dir, "config.json");
  if (!existsSync(configPath)) {
    throw new ModelError(
      "CHECKPOINT_FORMAT",
      `${params.dir}: no config.json; a checkpoint directory holds config.json and model.safetensors (as saved by transformers' save_pretrained)`,
    );
  }
  const verifyFile = (params.verify ?? true) ? manifestFileCheck(params.dir) : null;
  await verifyFile?.(configPath);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (error) {
    throw new ModelError("CONFIG_FORMAT", `${configPath}: not valid JSON (${(error as Error).message})`);
  }
  const config = fromHfConfig(json, configPath);
  const { tensors } = await loadWeightTensors(params.dir, {
    names: (name) => isParameterToRead(config, name),
    checkTensors: (described) => checkWeightHeaders({ config, tensors: described, source: params.dir }),
    ...(verifyFile === null ? {} : { beforeRead: verifyFile }),
  });
  return GPTNeoXModel.fromTensors({
    config,
    tensors,
    source: params.dir,
    trainable: params.trainable,
  });
}

/** Parameters of `saveCheckpoint`. */
export interface SaveCheckpointParams {
  model: GPTNeoXModel;
  /** Output directory; must not exist yet unless `overwrite`. */
  dir: string;
  /** Stored dtype of the weights. @default "F32" */
  dtype?: "F32" | "F16" | "BF16";
  /** Split `model.safetensors` into shards of at most this many bytes (transformers' layout). */
  maxShardBytes?: number;
  /** Copy the GPT-NeoX-20B tokenizer files next to the weights. @default true */
  includeTokenizer?: boolean;
  /** Replace an existing directory. @default false */
  overwrite?: boolean;
}

const TORCH_DTYPES = { F32: "float32", F16: "float16", BF16: "bfloat16" } as const;

/**
 * Saves a directory that transformers' `GPTNeoXForCausalLM.from_pretrained` and `AutoTokenizer`
 * load unchanged: `config.json`, `model.safetensors` (or shards + `model.safetensors.index.json`),
 * and the tokenizer files. Everything is written into a temporary sibling directory that is renamed
 * into place at the end, so a crash never leaves a half-written checkpoint under `dir`.
 */
export async function saveCheckpoint(params: SaveCheckpointParams): Promise<void> {
  const dtype = params.dtype ?? "F32";
  if (existsSync(params.dir) && !params.overwrite) {
    throw new ModelError(
      "IO",
      `${params.dir} already exists; choose a new directory or pass overwrite: true`,
    );
  }
  mkdirSync(dirname(params.dir), { recursive: true });
  const temporary = join(
    dirname(params.dir),
    `.${basename(params.dir)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  mkdirSync(temporary);
  try {
    const tensors = await params.model.toTensors();
    const metadata = { format: "pt" };
    if (params.maxShardBytes === undefined) {
      await writeSafetensors(join(temporary, "model.safetensors"), tensors, { dtype, metadata });
    } else {
      await writeShardedSafetensors(temporary, tensors, {
        dtype,
        metadata,
        maxShardBytes: params.maxShardBytes,
      });
    }
    writeFileSync(
      join(temporary, "config.json"),
      `${JSON.stringify(toHfConfig(params.model.config, { torchDtype: TORCH_DTYPES[dtype] }), null, 2)}\n`,
    );
    if (params.includeTokenizer ?? true) {
      writeTokenizerFiles(temporary);
    }
    if (existsSync(params.dir)) {
      rmSync(params.dir, { recursive: true, force: true });
    }
    renameDurable(temporary, params.dir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** The tokenizer files of a Pythia model repository (GPT-NeoX-20B BPE, no BOS added). */
export function writeTokenizerFiles(dir: string): void {
  copyFileSync(bundledTokenizerPath(), join(dir, "tokenizer.json"));
  const special = { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>" };
  writeFileSync(join(dir, "special_tokens_map.json"), `${JSON.stringify(special, null, 2)}\n`);
  const tokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    ...special,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    tokenizer_class: "GPTNeoXTokenizer",
  };
  writeFileSync(join(dir, "tokenizer_config.json"), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
}
