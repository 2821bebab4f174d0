export { hasMarker, PythiaError } from "./pythia-error.js";
export { drain } from "./drain.js";
export { temporaryPath, writeFileAtomic, writeFileAtomicAsync } from "./files.js";
export { type DurableFs, renameDurable } from "./rename-durable.js";
export { gitBlobId, gitBlobIdFile, sha256File, sha256Hex, StreamHasher, type StreamHashes } from "./hash.js";
export { type CheckpointScheduleParams, checkpointSteps } from "./checkpoint-schedule.js";
export { PythonRandom } from "./python-random.js";
export { serveWorker, startWorkerPool, type WorkerPool } from "./worker-pool.js";
