// The safetensors format, split by concern: the wire types and constants (`safetensors-types.ts`),
// header parsing, element conversion, in-memory serialization, single files and sharded checkpoints.

export {
  SAFETENSORS_INDEX_FILE,
  SAFETENSORS_ITEM_BYTES,
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_SINGLE_FILE,
  type CheckpointTensors,
  type LoadCheckpointTensorsOptions,
  type ReadSafetensorsOptions,
  type SafetensorsContents,
  type SafetensorsDtype,
  type SafetensorsHeader,
  type SafetensorsInput,
  type SafetensorsTensorInfo,
  type SerializeSafetensorsOptions,
  type ShardedIndex,
  type TensorData,
  type TensorDescription,
  type TensorEntry,
  type WriteShardedSafetensorsOptions,
  type WrittenCheckpoint,
} from "./safetensors-types.js";
export { parseSafetensorsHeader } from "./parse-safetensors-header.js";
export { serializeSafetensors } from "./serialize-safetensors.js";
export { readSafetensors, writeSafetensors } from "./safetensors-file.js";
export { loadCheckpointTensors, readShardedIndex, writeShardedSafetensors } from "./sharded-safetensors.js";
