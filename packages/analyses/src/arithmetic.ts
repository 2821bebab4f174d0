/**
 * The arithmetic tasks of Pythia's term-frequency case study (Razeghi et al. 2022): one sub-task per
 * first operand x1 ∈ [0, 99], test docs x2 ∈ [1, 50]; prompt `Q:What is {x1} times {x2}? A:` (or
 * `plus`), target without a leading space; k-shot context = examples joined by "\n\n"; greedy until
 * "\n" (16 tokens at most); the prediction is the first 1–5 digit number of the generation.
 */
import { drain } from "@pythia/core";
import { generate, type GPTNeoXModel } from "@pythia/model";
import type { Tokenizer } from "@pythia/tokenizer";
import { AnalysisError } from "./analysis-error.js";

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

/** A seeded 32-bit generator (mulberry32) for the few-shot draws. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The k-shot context for `doc`: k examples drawn (seeded, without replacement) from the validation
 * split (every other x1 ∈ [0, 99] × x2 ∈ [1, 50]), joined by "\n\n", then "\n\n" and the query.
 */
export function fewShotPrompt(params: {
  operation: ArithmeticOperation;
  doc: ArithmeticDoc;
  shots: number;
  /** @default 1234 */
  seed?: number;
}): string {
  if (params.shots === 0) {
    return params.doc.prompt;
  }
  const random = mulberry32((params.seed ?? 1234) + params.doc.x1 * 1000 + params.doc.x2);
  const chosen = new Set<string>();
  const examples: string[] = [];
  while (examples.length < params.shots) {
    let x1 = Math.floor(random() * 99);
    if (x1 >= params.doc.x1) {
      x1++;
    }
    const x2 = 1 + Math.floor(random() * 50);
    const key = `${x1}/${x2}`;
    if (!chosen.has(key)) {
      chosen.add(key);
      const example = arithmeticDoc(params.operation, x1, x2);
      examples.push(example.prompt + example.target);
    }
  }
  return `${examples.join("\n\n")}\n\n${params.doc.prompt}`;
}

/** The first 1–5 digit number in a generation, or "" (Pythia's prediction extraction). */
export function extractFirstNumber(text: string): string {
  return /\d{1,5}/.exec(text)?.[0] ?? "";
}

/** A greedy-until function: prompt text → generated text (stopped at the stop string, excluded). */
export type GreedyUntil = (prompt: string) => Promise<string>;

/**
 * Greedy decoding with `@pythia/model`'s `generate` until `stop` (default "\n") or `maxNewTokens`
 * (default 16); the prompt is truncated from the left to fit the model's positions.
 */
export function modelGreedyUntil(
  model: GPTNeoXModel,
  tokenizer: Tokenizer,
  options: { stop?: string; maxNewTokens?: number } = {},
): GreedyUntil {
  const stop = options.stop ?? "\n";
  const maxNewTokens = options.maxNewTokens ?? 16;
  return async (prompt) => {
    const ids = tokenizer.encode(prompt);
    const room = model.config.maxPositionEmbeddings - maxNewTokens;
    const result = await generate({
      model,
      inputIds: ids.length > room ? ids.slice(ids.length - room) : ids,
      maxNewTokens,
      stopStrings: [stop],
      tokenizer,
    });
    const text = result.text ?? "";
    const at = text.indexOf(stop);
    return at === -1 ? text : text.slice(0, at);
  };
}

/** Parameters of `arithmeticEvalIter`. */
export interface ArithmeticEvalParams {
  operation: ArithmeticOperation;
  shots: number;
  greedyUntil: GreedyUntil;
  /** @default 0…99 */
  x1Values?: readonly number[];
  /** @default 1…50 */
  x2Values?: readonly number[];
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
  const x2Values = params.x2Values ?? Array.from({ length: 50 }, (_, i) => i + 1);
  if (x2Values.length === 0 || x1Values.length === 0) {
    throw new AnalysisError("INPUT", "arithmeticEval: no operands to evaluate");
  }
  const accuracy: Record<string, number> = {};
  for (const x1 of x1Values) {
    let correct = 0;
    for (const x2 of x2Values) {
      params.signal?.throwIfAborted();
      const doc = arithmeticDoc(params.operation, x1, x2);
      const prompt = fewShotPrompt({
        operation: params.operation,
        doc,
        shots: params.shots,
        seed: params.seed,
      });
      const prediction = extractFirstNumber(await params.greedyUntil(prompt));
      correct += prediction === doc.target ? 1 : 0;
    }
    accuracy[String(x1)] = correct / x2Values.length;
    yield { type: "operand-scored", x1, accuracy: correct / x2Values.length };
  }
  const values = Object.values(accuracy);
  return {
    operation: params.operation,
    shots: params.shots,
    accuracy,
    meanAccuracy: values.reduce((a, b) => a + b, 0) / values.length,
  };
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
