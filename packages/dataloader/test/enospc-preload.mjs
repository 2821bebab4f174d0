// Test-only `node --import` preload: a full disk, simulated. Every write to a temporary file
// (`*.tmp-*`) after PYTHIA_TEST_ENOSPC_AFTER_BYTES bytes fails with ENOSPC, as on a full disk.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const limit = Number(process.env.PYTHIA_TEST_ENOSPC_AFTER_BYTES ?? "0");
const writeSync = fs.writeSync;
let written = 0;

fs.writeSync = function (fd, ...rest) {
  let target = "";
  try {
    target = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // not Linux, or a closed fd: let the real call decide
  }
  if (target.includes(".tmp-")) {
    const buffer = rest[0];
    const length = typeof rest[2] === "number" ? rest[2] : buffer.length;
    if (written + length > limit) {
      const error = new Error(`ENOSPC: no space left on device, write`);
      Object.assign(error, { code: "ENOSPC", errno: -28, syscall: "write" });
      throw error;
    }
    written += length;
  }
  return writeSync.call(this, fd, ...rest);
};
syncBuiltinESMExports();
