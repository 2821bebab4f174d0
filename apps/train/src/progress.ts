/**
 * Rendering of training events: a cli-progress bar on a terminal (step, loss, tokens/s, ETA), and on a
 * pipe a nanoGPT-style line about every 10 seconds. Libraries emit events; only this file prints them.
 */
import type { TrainEvent } from "@pythia/trainer";
import type { MultiBar, SingleBar } from "cli-progress";

/** Shows a run's progress. */
export interface ProgressDisplay {
  onEvent(event: TrainEvent): void;
  /** Prints a line without breaking the bar. */
  log(line: string): void;
  stop(): void;
}

/** Parameters of `createProgressDisplay`. */
export interface ProgressDisplayParams {
  stream?: NodeJS.WriteStream;
  /** Draw a bar. @default stream.isTTY */
  tty?: boolean;
  /** Seconds between lines on a pipe. @default 10 */
  lineIntervalSeconds?: number;
}

/** A bar on a terminal, periodic lines elsewhere. */
export async function createProgressDisplay(params: ProgressDisplayParams = {}): Promise<ProgressDisplay> {
  const stream = params.stream ?? process.stderr;
  if (params.tty ?? stream.isTTY === true) {
    return barDisplay(stream);
  }
  return lineDisplay(stream, (params.lineIntervalSeconds ?? 10) * 1000);
}

async function barDisplay(stream: NodeJS.WriteStream): Promise<ProgressDisplay> {
  const { default: progress } = await import("cli-progress");
  const multibar: MultiBar = new progress.MultiBar(
    {
      format: "{bar} step {value}/{total} | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
      stream,
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    },
    progress.Presets.shades_classic,
  );
  let bar: SingleBar | null = null;
  return {
    onEvent(event) {
      switch (event.type) {
        case "run-start":
          bar = multibar.create(event.steps, event.fromStep, { loss: "-", tps: "-" });
          break;
        case "step-end":
          bar?.update(event.step, { loss: event.loss.toFixed(4), tps: Math.round(event.tokensPerSecond) });
          break;
        case "checkpoint-written":
          multibar.log(`${describeCheckpoint(event)}\n`);
          break;
        case "eval-end":
          multibar.log(`${describeEval(event)}\n`);
          break;
      }
    },
    log(line) {
      multibar.log(`${line}\n`);
    },
    stop() {
      multibar.update(); // flushes lines logged since the last redraw
      multibar.stop();
    },
  };
}

function lineDisplay(stream: NodeJS.WriteStream, intervalMs: number): ProgressDisplay {
  let started = 0;
  let fromStep = 0;
  let steps = 0;
  let lastLine = -Infinity;
  return {
    onEvent(event) {
      switch (event.type) {
        case "run-start":
          started = performance.now();
          fromStep = event.fromStep;
          steps = event.steps;
          break;
        case "step-end": {
          const now = performance.now();
          if (event.step === fromStep + 1 || event.step === steps || now - lastLine >= intervalMs) {
            lastLine = now;
            const perStep = (now - started) / (event.step - fromStep);
            stream.write(
              `step ${event.step}: loss ${event.loss.toFixed(4)}, lr ${event.lr.toExponential(1)}, ${Math.round(event.elapsedMs)} ms, ${Math.round(event.tokensPerSecond)} tok/s, eta ${formatDuration(perStep * (steps - event.step))}\n`,
            );
          }
          break;
        }
        case "checkpoint-written":
          stream.write(`${describeCheckpoint(event)}\n`);
          break;
        case "eval-end":
          stream.write(`${describeEval(event)}\n`);
          break;
      }
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop() {},
  };
}

function describeCheckpoint(event: Extract<TrainEvent, { type: "checkpoint-written" }>): string {
  return `saved step${event.step} (${(event.bytes / 1e6).toFixed(1)} MB in ${(event.ms / 1000).toFixed(1)} s)`;
}

function describeEval(event: Extract<TrainEvent, { type: "eval-end" }>): string {
  return `step ${event.step}: validation loss ${event.loss.toFixed(4)}, perplexity ${event.perplexity.toFixed(2)}`;
}

/** `1h02m`, `4m05s`, `12s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) {
    return `${h}h${String(m).padStart(2, "0")}m`;
  }
  return m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}
