import { checkpointError, type TorchCheckpointError } from "./torch-checkpoint-error.js";

const FIX = "the file is corrupt or was not written by torch.save; download or save it again";

/** A `TORCH_FORMAT` error: the file's pickle or layout is not what torch.save writes. */
export function torchFormatError(file: string, where: string, what: string, fix = FIX): TorchCheckpointError {
  return checkpointError("TORCH_FORMAT", file, where, what, fix);
}
