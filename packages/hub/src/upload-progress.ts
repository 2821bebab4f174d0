import type { LocalCheckpoint } from "./local-checkpoint.js";
import type { PushEvent } from "./push-types.js";

/** Tracks bytes, files and revisions across concurrent uploads for `upload-progress` events. */
export class ProgressTracker {
  private readonly done = new Map<string, { bytes: number; size: number }>();
  private totalBytes = 0;
  private totalFiles = 0;
  private revisions = 0;
  private totalRevisions = 0;

  constructor(private readonly emit: (event: PushEvent) => void) {}

  addRevision(checkpoint: LocalCheckpoint): void {
    this.totalRevisions++;
    for (const file of checkpoint.files) {
      this.done.set(`${checkpoint.step}/${file.path}`, { bytes: 0, size: file.bytes });
      this.totalBytes += file.bytes;
      this.totalFiles++;
    }
    this.report();
  }

  file(step: number, path: string, fraction: number): void {
    const entry = this.done.get(`${step}/${path}`);
    if (entry === undefined) {
      return;
    }
    const bytes = Math.round(entry.size * Math.min(1, fraction));
    if (bytes > entry.bytes) {
      entry.bytes = bytes;
      this.report();
    }
  }

  revisionDone(checkpoint: LocalCheckpoint): void {
    for (const file of checkpoint.files) {
      const entry = this.done.get(`${checkpoint.step}/${file.path}`);
      if (entry !== undefined) {
        entry.bytes = entry.size;
      }
    }
    this.revisions++;
    this.report();
  }

  private report(): void {
    let bytes = 0;
    let files = 0;
    for (const entry of this.done.values()) {
      bytes += entry.bytes;
      files += entry.bytes === entry.size ? 1 : 0;
    }
    this.emit({
      type: "upload-progress",
      bytes,
      totalBytes: this.totalBytes,
      files,
      totalFiles: this.totalFiles,
      revisions: this.revisions,
      totalRevisions: this.totalRevisions,
    });
  }
}
