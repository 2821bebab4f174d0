import { checkpointSteps } from "@pythia/core";
import type { RevisionsManifest } from "./revisions-manifest.js";

/** Inputs of the model card (`README.md` on `main`). */
export interface ModelCardParams {
  repo: string;
  manifest: RevisionsManifest;
  /** The final checkpoint's `config.json` (HF GPT-NeoX), when known. */
  config?: Record<string, unknown> | null;
  /** The run's `run.json` `data` object (dataset prefix, documents, tokens, index maps), when known. */
  data?: Record<string, unknown> | null;
}

function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The model card: YAML front matter, how to load a revision, the configuration, the data, the
 * checkpoint schedule and a table of every revision with its weights' sha256. Deterministic.
 */
export function modelCard(params: ModelCardParams): string {
  const { manifest } = params;
  const lines: string[] = [
    "---",
    "library_name: transformers",
    "tags:",
    "  - pythia",
    "  - gpt-neox",
    "  - pythia-ts",
    "---",
    "",
    `# ${params.repo}`,
    "",
    `A GPT-NeoX (Pythia-style) model trained with pythia-ts. Every checkpoint is a branch \`step{N}\`; \`main\` holds the final one (${manifest.final ?? "none yet"}).`,
    "",
    "```python",
    "from transformers import GPTNeoXForCausalLM",
    "",
    `model = GPTNeoXForCausalLM.from_pretrained("${params.repo}", revision="${manifest.revisions[0]?.revision ?? "step0"}")`,
    "```",
    "",
    `\`${"revisions.json"}\` lists the sha256 of every file of every revision; \`pythia-hub verify --repo ${params.repo}\` checks them.`,
    "",
    "## Configuration",
    "",
  ];
  if (params.config) {
    lines.push("| field | value |", "| --- | --- |");
    for (const [key, value] of Object.entries(params.config).sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`| \`${key}\` | \`${JSON.stringify(value)}\` |`);
    }
  } else {
    lines.push("Not recorded.");
  }
  lines.push("", "## Data", "");
  lines.push(
    params.data ? ["```json", JSON.stringify(params.data, null, 2), "```"].join("\n") : "Not recorded.",
  );
  lines.push("", "## Checkpoint schedule", "");
  if (manifest.schedule) {
    const steps = checkpointSteps(manifest.schedule);
    lines.push(
      `${manifest.schedule.steps} optimizer steps; a checkpoint at step 0, at the powers of two up to ${
        manifest.schedule.logSpacedUpTo ?? Math.min(512, manifest.schedule.every - 1)
      }, every ${manifest.schedule.every} steps, and at the last step: ${steps.length} revisions.`,
    );
  } else {
    lines.push("Not recorded.");
  }
  lines.push(
    "",
    "## Revisions",
    "",
    "| revision | step | weights sha256 | size | commit |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const entry of [...manifest.revisions].sort((a, b) => a.step - b.step)) {
    const bytes = Object.values(entry.files).reduce((sum, file) => sum + file.bytes, 0);
    const weights = entry.files["model.safetensors"]?.sha256 ?? "—";
    lines.push(
      `| \`${entry.revision}\` | ${entry.step} | \`${weights}\` | ${formatBytes(bytes)} | \`${entry.commit.slice(0, 10)}\` |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}
