/**
 * AdamW with decoupled weight decay, as torch.optim.AdamW (and DeepSpeed/apex FusedAdam in
 * `adam_w_mode`) computes it — tfjs has none, and its Adam keys state by list position. State is keyed
 * by parameter name, so the variable order never matters. Per parameter, at step t (1-based):
 *   p ← p·(1 − lr·wd)                      (decay group only)
 *   m ← β1·m + (1 − β1)·g                  (first moment)
 *   v ← β2·v + (1 − β2)·g²                 (second moment)
 *   p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε)   (bias-corrected update)
 * References: llm.c `gpt2_update`, torch 1.13 `_single_tensor_adamw`.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedAdamW, ownBuffer, webgpuInternals } from "./adamw-webgpu.js";

/** AdamW hyper-parameters (Pythia: betas 0.9/0.95, eps 1e-8, weight decay 0.1). */
export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Moments of one parameter. */
export interface AdamWSlot {
  m: tf.Variable;
  v: tf.Variable;
}

/** AdamW state: the step count and per-parameter moments, by name. */
export class AdamW {
  readonly options: AdamWOptions;
  /** Optimizer steps taken (t of the bias correction). */
  step = 0;
  readonly slots = new Map<string, AdamWSlot>();

  constructor(options: AdamWOptions) {
    this.options = options;
  }

  /**
   * Applies one update to every parameter in `params` with gradient `grads[name]`. `decay(name)` says
   * whether weight decay applies (GPT-NeoX: not to biases and LayerNorm parameters). `coef`, a scalar
   * tensor, scales every gradient first (gradient clipping without a read-back; see `clipCoefficient`).
   * On WebGPU each parameter is one fused in-place kernel (`adamw-webgpu.ts`).
   */
  apply(
    params: Readonly<Record<string, tf.Variable>>,
    grads: Readonly<Record<string, tf.Tensor>>,
    lr: number,
    decay: (name: string) => boolean,
    coef?: tf.Scalar,
  ): void {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    // torch computes the bias corrections as Python (float64) scalars.
    const stepSize = lr / (1 - Math.pow(beta1, this.step));
    const secondCorrection = Math.sqrt(1 - Math.pow(beta2, this.step));
    const webgpu = webgpuInternals();
    if (webgpu !== null) {
      const scale = coef ?? tf.scalar(1);
      for (const [name, param] of Object.entries(params)) {
        const grad = grads[name];
        if (grad === undefined) {
          continue;
        }
        const slot = this.slotFor(name, param);
        for (const variable of [param, slot.m, slot.v]) {
          ownBuffer(webgpu, variable);
        }
        const decayFactor = decay(name) && weightDecay !== 0 ? Math.fround(1 - lr * weightDecay) : 1;
        fusedAdamW(
          webgpu,
          { param, m: slot.m, v: slot.v, grad, coef: scale },
          { decayFactor, beta1, beta2, eps, stepSize, secondCorrection },
        );
      }
      if (coef === undefined) {
        scale.dispose();
      }
      return;
    }
    if (coef !== undefined) {
      grads = Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, coef)]));
    }
    for (const [name, param] of Object.entries(params)) {
      const grad = grads[name];
      if (grad === undefined) {
        continue;
      }
      const slot = this.slotFor(name, param);
      tf.tidy(() => {
        const decayed = decay(name) && weightDecay !== 0 ? tf.mul(param, 1 - lr * weightDecay) : param;
        const m = tf.add(tf.mul(slot.m, beta1), tf.mul(grad, 1 - beta1));
        const v = tf.add(tf.mul(slot.v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        const denominator = tf.add(tf.div(tf.sqrt(v), secondCorrection), eps);
        slot.m.assign(m);
        slot.v.assign(v);
        param.assign(tf.sub(decayed, tf.mul(tf.div(m, denominator), stepSize)));
      });
    }
    if (coef !== undefined) {
      tf.dispose(Object.values(grads));
    }
  }

  /** Frees the moment variables. */
  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }

  private slotFor(name: string, param: tf.Variable): AdamWSlot {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = {
        m: tf.variable(tf.zerosLike(param), false),
        v: tf.variable(tf.zerosLike(param), false),
      };
      this.slots.set(name, slot);
    }
    return slot;
  }
}

/**
 * The global L2 norm of `grads` and the clipping coefficient `min(1, maxNorm / (norm + 1e-6))` as
 * scalar tensors, for `AdamW.apply(…, coef)`: nothing is read back to the host during the step.
 */
export function clipCoefficient(
  grads: Readonly<Record<string, tf.Tensor>>,
  maxNorm: number,
): { norm: tf.Scalar; coef: tf.Scalar } {
  return tf.tidy(() => {
    // Pairwise adds, not addN: WebGPU's AddN binds every input at once, over the 8 storage buffers a
    // shader stage may have by default.
    const squares = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(squares.reduce((total, square) => tf.add(total, square))) as tf.Scalar;
    const coef = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar;
    return { norm, coef };
  });
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (torch `clip_grad_norm_`:
 * coef = maxNorm / (norm + 1e-6), clamped to 1). Returns the new gradients and the pre-clip norm;
 * the input gradients are disposed when replaced.
 */
export function clipGradients(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(
    () => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0] as number,
  );
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (coef >= 1) {
    return { grads, norm };
  }
  const clipped: Record<string, tf.Tensor> = {};
  for (const [name, grad] of Object.entries(grads)) {
    clipped[name] = tf.mul(grad, coef);
    grad.dispose();
  }
  return { grads: clipped, norm };
}
