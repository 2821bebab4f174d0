/**
 * The arithmetic tasks of Pythia's term-frequency case study (Razeghi et al. 2022): one sub-task per
 * first operand x1 ∈ [0, 99], test docs x2 ∈ [1, 50]; prompt `Q:What is {x1} times {x2}? A:` (or
 * `plus`), target without a leading space; k-shot context = examples joined by "\n\n"; greedy until
 * "\n" (16 tokens at most); the prediction is the first 1–5 digit number of the generation.
 */
import { drain, PythonRandom } from "@pythia/core";
import type { GPTNeoXModel } from "@pythia/model";
import type { Tokenizer } from "@pythia/tokenizer";
import { AnalysisError } from "./analysis-errors.js";
import { greedyDecodeBatch } from "./greedy-batch.js";

/** The two arithmetic operations. */
export type ArithmeticOperation = "multiplication" | "addition";

/** Pythia's shot counts. */
export const ARITHMETIC_SHOTS = [0, 2, 4, 8, 16] as const;

/** One arithmetic doc. */
export interface ArithmeticDoc {
  x1: number;
  x2: number;
  prompt: string;
  target: string;
}

/** The doc `x1 op x2`. */
export function arithmeticDoc(operation: ArithmeticOperation, x1: number, x2: number): ArithmeticDoc {
  const word = operation === "multiplication" ? "times" : "plus";
  const value = operation === "multiplication" ? x1 * x2 : x1 + x2;
  return { x1, x2, prompt: `Q:What is ${x1} ${word} ${x2}? A:`, target: String(value) };
}

/** One request of a sub-task: the doc and its k-shot context. */
export interface ArithmeticRequest {
  doc: ArithmeticDoc;
  context: string;
}

/**
 * The requests of one sub-task (one `x1`) in the order lm-evaluation-harness v0.3.0 issues them:
 * `rnd = Random(seed)` shuffles the test docs (`x2Values`, default 1…50), then, for k > 0, each doc
 * draws `rnd.sample(validation, k + 1)`, drops itself and keeps k. The validation split is every
 * other x1 ∈ [0, 99] × x2 ∈ [1, 50] in x1-major order (docs/decisions/0010). Examples are
 * `prompt + target` joined by "\n\n", then "\n\n" and the query. `limit` keeps the first docs after the
 * shuffle, as the harness's `--limit` does.
 */
export function arithmeticRequests(params: {
  operation: ArithmeticOperation;
  x1: number;
  shots: number;
  /** @default 1…50 */
  x2Values?: readonly number[];
  limit?: number;
  /** @default 42 (the harness's evaluator seed) */
  seed?: number;
}): ArithmeticRequest[] {
  const { operation, x1, shots } = params;
  if (!Number.isInteger(shots) || shots < 0) {
    throw new AnalysisError("INPUT", `arithmetic: shots must be a non-negative integer, got ${shots}`);
  }
  const docs = (params.x2Values ?? Array.from({ length: 50 }, (_, i) => i + 1)).map((x2) =>
    arithmeticDoc(operation, x1, x2),
  );
  const rnd = new PythonRandom(params.seed ?? 42);
  rnd.shuffle(docs);
  const chosen = params.limit === undefined ? docs : docs.slice(0, params.limit);
  let validation: Array<[number, number]> | null = null;
  return chosen.map((doc) => {
    if (shots === 0) {
      return { doc, context: doc.prompt };
    }
    validation ??= validationPairs(x1);
    const examples = rnd
      .sample(validation, shots + 1)
      .filter(([a, b]) => a !== doc.x1 || b !== doc.x2)
      .slice(0, shots)
      .map(([a, b]) => {
        const example = arithmeticDoc(operation, a, b);
        return example.prompt + example.target;
      });
    return { doc, context: `${examples.join("\n\n")}\n\n${doc.prompt}` };
  });
}

/** The validation split of sub-task `x1`: every other x1 ∈ [0, 99] × x2 ∈ [1, 50], x1-major. */
function validationPairs(x1: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < 100; a++) {
    for (let b = 1; a !== x1 && b <= 50; b++) {
      pairs.push([a, b]);
    }
  }
  return pairs;
}

/** The first 1–5 digit number in a generation, or "" (Pythia's prediction extraction). */
export function extractFirstNumber(text: string): string {
  return /\d{1,5}/.exec(text)?.[0] ?? "";
}

/**
 * A greedy-until function: prompt text → generated text, cut before the stop string. `batch`, when
 * present, does many prompts at once with the same results.
 */
export interface GreedyUntil {
  (prompt: string): Promise<string>;
  batch?: (prompts: readonly string[]) => Promise<string[]>;
}

/**
 * Greedy decoding until `stop` (default "\n") or `maxNewTokens` (default 16), as the harness's
 * `greedy_until` with HF `generate`: the end-of-document token does not stop it (the stop string
 * does), the text keeps special tokens, and prompts are cut from the left to fit the model's
 * positions. `batch` groups prompts of equal token length (no padding, so each prompt gets exactly
 * its unbatched continuation), `batchSize` at a time (default 32).
 */
export function modelGreedyUntil(
  model: GPTNeoXModel,
  tokenizer: Tokenizer,
  options: { stop?: string; maxNewTokens?: number; batchSize?: number } = {},
): GreedyUntil & { batch: (prompts: readonly string[]) => Promise<string[]> } {
  const stop = options.stop ?? "\n";
  const maxNewTokens = options.maxNewTokens ?? 16;
  const batchSize = options.batchSize ?? 32;
  const room = model.config.maxPositionEmbeddings - maxNewTokens;
  const cut = (text: string) => {
    const at = text.indexOf(stop);
    return at === -1 ? text : text.slice(0, at);
  };
  const batch = async (prompts: readonly string[]): Promise<string[]> => {
    const encoded = prompts.map((prompt) => {
      const ids = tokenizer.encode(prompt);
      if (ids.length === 0) {
        throw new AnalysisError(
          "INPUT",
          `greedy until: the prompt ${JSON.stringify(prompt)} encodes to no tokens`,
        );
      }
      return ids.length > room ? ids.slice(ids.length - room) : ids;
    });
    const byLength = new Map<number, number[]>();
    encoded.forEach((ids, i) => {
      const group = byLength.get(ids.length);
      if (group === undefined) {
        byLength.set(ids.length, [i]);
      } else {
        group.push(i);
      }
    });
    const out = new Array<string>(prompts.length);
    for (const members of byLength.values()) {
      for (let start = 0; start < members.length; start += batchSize) {
        const chunk = members.slice(start, start + batchSize);
        const generated = await greedyDecodeBatch({
          model,
          prompts: chunk.map((i) => encoded[i] as number[]),
          maxNewTokens,
          stopped: (_, ids) => tokenizer.decode(ids).includes(stop),
        });
        chunk.forEach((i, row) => {
          out[i] = cut(tokenizer.decode(generated[row] as number[]));
        });
      }
    }
    return out;
  };
  const single = async (prompt: string) => (await batch([prompt]))[0] as string;
  return Object.assign(single, { batch });
}

/** Parameters of `arithmeticEvalIter`. */
export interface ArithmeticEvalParams {
  operation: ArithmeticOperation;
  shots: number;
  greedyUntil: GreedyUntil;
  /** @default 0…99 */
  x1Values?: readonly number[];
  /** Test docs of each sub-task. @default 1…50 */
  x2Values?: readonly number[];
  /** Docs per sub-task at most, taken after the harness's shuffle (CI-sized runs). */
  limit?: number;
  /** @default 42 */
  seed?: number;
  signal?: AbortSignal;
}

/** Per-operand accuracies of one operation and shot count. */
export interface ArithmeticEvalResult {
  operation: ArithmeticOperation;
  shots: number;
  /** Accuracy per x1 (mean over its x2 docs). */
  accuracy: Record<string, number>;
  meanAccuracy: number;
}

/** Progress: one sub-task (operand) done. */
export type ArithmeticEvalEvent = { type: "operand-scored"; x1: number; accuracy: number };

/** Evaluates every sub-task, yielding per operand. */
export async function* arithmeticEvalIter(
  params: ArithmeticEvalParams,
): AsyncGenerator<ArithmeticEvalEvent, ArithmeticEvalResult> {
  const x1Values = params.x1Values ?? Array.from({ length: 100 }, (_, i) => i);
  if ((params.x2Values ?? [1]).length === 0 || x1Values.length === 0) {
    throw new AnalysisError("INPUT", "arithmeticEval: no operands to evaluate");
  }
  const accuracy: Record<string, number> = {};
  for (const x1 of x1Values) {
    const requests = arithmeticRequests({
      operation: params.operation,
      x1,
      shots: params.shots,
      x2Values: params.x2Values,
      limit: params.limit,
      seed: params.seed,
    });
    if (requests.length === 0) {
      throw new AnalysisError("INPUT", "arithmeticEval: limit must be at least 1");
    }
    const generations = await greedyUntilAll(
      params.greedyUntil,
      requests.map((request) => request.context),
      params.signal,
    );
    let correct = 0;
    for (const [i, { doc }] of requests.entries()) {
      correct += extractFirstNumber(generations[i] as string) === doc.target ? 1 : 0;
    }
    accuracy[String(x1)] = correct / requests.length;
    yield { type: "operand-scored", x1, accuracy: correct / requests.length };
  }
  const values = Object.values(accuracy);
  return {
    operation: params.operation,
    shots: params.shots,
    accuracy,
    meanAccuracy: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** `greedyUntil` over every prompt: in one `batch` call when it has one, else one prompt at a time. */
export async function greedyUntilAll(
  greedyUntil: GreedyUntil,
  prompts: readonly string[],
  signal?: AbortSignal,
): Promise<string[]> {
  signal?.throwIfAborted();
  if (greedyUntil.batch !== undefined) {
    return greedyUntil.batch(prompts);
  }
  const out: string[] = [];
  for (const prompt of prompts) {
    signal?.throwIfAborted();
    out.push(await greedyUntil(prompt));
  }
  return out;
}

/** Drains `arithmeticEvalIter`. */
export async function arithmeticEval(
  params: ArithmeticEvalParams & { onEvent?: (event: ArithmeticEvalEvent) => void },
): Promise<ArithmeticEvalResult> {
  return drain(arithmeticEvalIter(params), params.onEvent);
}

/**
 * Razeghi's performance gap: sort operands by frequency (descending; ties by operand), Δ = mean
 * accuracy of the top `fraction` − mean accuracy of the bottom `fraction`, × 100.
 */
export function performanceGap(params: {
  accuracy: Readonly<Record<string, number>>;
  frequency: Readonly<Record<string, number>>;
  /** @default 0.1 */
  fraction?: number;
}): { delta: number; top: string[]; bottom: string[] } {
  const operands = Object.keys(params.accuracy).sort(
    (a, b) => (params.frequency[b] ?? 0) - (params.frequency[a] ?? 0) || Number(a) - Number(b),
  );
  const size = Math.max(1, Math.round(operands.length * (params.fraction ?? 0.1)));
  const top = operands.slice(0, size);
  const bottom = operands.slice(-size);
  const mean = (keys: string[]) => keys.reduce((a, key) => a + (params.accuracy[key] ?? 0), 0) / keys.length;
  return { delta: (mean(top) - mean(bottom)) * 100, top, bottom };
}
