import { open, rm } from "node:fs/promises";
import { basename } from "node:path";
import { renameDurable, temporaryPath } from "@pythia/core";
import { PickleWriter } from "./pickle-writer.js";
import { checkpointError } from "./torch-checkpoint-error.js";
import {
  TORCH_ITEM_BYTES,
  TORCH_STORAGE_DTYPES,
  type TorchDtype,
  type TorchTensorArray,
} from "./torch-tensor.js";
import { ZipWriter } from "./zip-writer.js";

/** A tensor to write: dtype, row-major shape and elements (F16/BF16 as raw bits in a `Uint16Array`). */
export class TorchTensorToSave {
  constructor(
    readonly dtype: TorchDtype,
    readonly shape: readonly number[],
    readonly data: TorchTensorArray,
  ) {
    const numel = shape.reduce((product, size) => product * size, 1);
    if (data.byteLength !== numel * TORCH_ITEM_BYTES[dtype]) {
      throw checkpointError(
        "INPUT",
        "<tensor>",
        "data",
        `${data.byteLength} bytes do not hold ${dtype} (${shape.join(", ")})`,
        "pass as many elements as the shape has, in the dtype's array type",
      );
    }
  }
}

/** Options of {@link writeTorchCheckpoint}. */
export interface WriteTorchCheckpointOptions {
  /** The archive's top folder (torch uses the file name without extension). */
  archiveName?: string;
  /** Write zip64 records even for a small file (they are written anyway past 4 GiB). */
  forceZip64?: boolean;
}

const STORAGE_NAMES = Object.fromEntries(
  Object.entries(TORCH_STORAGE_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Record<TorchDtype, string>;

/**
 * Pickles `value` as torch.save (protocol 2) does: tensors become `torch._utils._rebuild_tensor_v2`
 * calls over persistent storage ids `('storage', torch.<T>Storage, key, 'cpu', numel)`, one storage
 * per tensor. Returns the pickle and the storages in key order.
 */
export function pickleTorchObject(value: unknown): { pickle: Uint8Array; storages: TorchTensorToSave[] } {
  const storages: TorchTensorToSave[] = [];
  const writer = new PickleWriter((item, out) => {
    if (!(item instanceof TorchTensorToSave)) {
      return false;
    }
    const key = String(storages.length);
    storages.push(item);
    const numel = item.shape.reduce((product, size) => product * size, 1);
    const stride: number[] = [];
    let step = 1;
    for (let i = item.shape.length - 1; i >= 0; i--) {
      stride[i] = step;
      step *= item.shape[i] as number;
    }
    out.global("torch._utils", "_rebuild_tensor_v2");
    out.mark();
    out.mark();
    out.value("storage");
    out.global("torch", STORAGE_NAMES[item.dtype]);
    out.value(key);
    out.value("cpu");
    out.value(numel);
    out.tupleFromMark();
    out.persistentId();
    out.value(0);
    out.tuple([...item.shape]);
    out.tuple(stride);
    out.value(false);
    out.global("collections", "OrderedDict");
    out.tuple([]);
    out.reduce();
    out.tupleFromMark();
    out.reduce();
    return true;
  });
  writer.begin();
  writer.value(value);
  writer.end();
  return { pickle: writer.result(), storages };
}

/**
 * Writes `value` (Maps, `PickleOrderedDict`s, `PickleTuple`s, arrays, plain data and
 * `TorchTensorToSave`s) as a torch.save zip file that `torch.load` and this package read:
 * `<name>/data.pkl`, `<name>/byteorder`, `<name>/data/<key>`, `<name>/version`. Written to a
 * temporary sibling and renamed into place.
 */
export async function writeTorchCheckpoint(
  path: string,
  value: unknown,
  options: WriteTorchCheckpointOptions = {},
): Promise<void> {
  const prefix = options.archiveName ?? basename(path).replace(/\.[^.]*$/, "");
  const { pickle, storages } = pickleTorchObject(value);
  const temporary = temporaryPath(path);
  const handle = await open(temporary, "w");
  try {
    const zip = new ZipWriter(handle, { forceZip64: options.forceZip64 });
    await zip.add(`${prefix}/data.pkl`, [pickle]);
    await zip.add(`${prefix}/byteorder`, [new TextEncoder().encode("little")]);
    for (const [key, storage] of storages.entries()) {
      const { buffer, byteOffset, byteLength } = storage.data;
      await zip.add(`${prefix}/data/${key}`, [new Uint8Array(buffer, byteOffset, byteLength)]);
    }
    await zip.add(`${prefix}/version`, [new TextEncoder().encode("3\n")]);
    await zip.finish();
    await handle.close();
    renameDurable(temporary, path);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
}
