/**
 * Gradients of the tfjs ops that remain on a training tape, for tfjs-core without the `@tensorflow/tfjs`
 * bundle. tfjs-core registers no gradient itself (its Node build holds none); the bundle registers them
 * all from its own copy, and it is 286 MB with its layers, converter, data and webgl packages, which we no
 * longer install (docs/decisions/0017-installable-packages.md). The model's own
 * kernels (linear, attention, layer norm, GELU, embedding, cross-entropy, rotary) carry their gradients
 * in `customGrad`; what is left on the tapes of the model, the trainer and the tuned lens is below, with a
 * few unary ops beside them. A gradient already registered (by the bundle or tfjs-node, when a user
 * imports them) is left alone.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ModelError } from "./model-errors.js";

/** The tensors tfjs saved for a gradient (`inputsToSave`/`outputsToSave`), checked to be there. */
function savedTensors(kernel: string, saved: tf.Tensor[], count: 1): [tf.Tensor];
function savedTensors(kernel: string, saved: tf.Tensor[], count: 2): [tf.Tensor, tf.Tensor];
function savedTensors(kernel: string, saved: tf.Tensor[], count: number): tf.Tensor[] {
  if (saved.length < count || saved.some((tensor) => tensor === undefined)) {
    throw new ModelError(
      "BACKEND",
      `tfjs saved ${saved.length} tensor(s) for the ${kernel} gradient, expected ${count}; ` +
        "use @tensorflow/tfjs-core 4.x (@pythia/model is tested with 4.22)",
    );
  }
  return saved;
}

/** `dy` summed over the axes along which an input of `shape` was broadcast, in that input's shape. */
function sumToShape(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** `dy` expanded back over the reduced axes of `x` (Sum, Mean), as a float tensor of `x`'s shape. */
function expandReduced(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const expanded = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) {
    expanded[a] = 1;
  }
  return tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape, "float32"));
}

function float(x: tf.Tensor): tf.Tensor {
  return tf.cast(x, "float32");
}

const GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = savedTensors(tf.Add, saved, 2);
      return {
        a: () => sumToShape(dy as tf.Tensor, a.shape),
        b: () => sumToShape(dy as tf.Tensor, b.shape),
      };
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = savedTensors(tf.Sub, saved, 2);
      return {
        a: () => sumToShape(dy as tf.Tensor, a.shape),
        b: () => tf.neg(sumToShape(dy as tf.Tensor, b.shape)),
      };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = savedTensors(tf.Multiply, saved, 2);
      return {
        a: () => sumToShape(tf.mul(dy as tf.Tensor, float(b)), a.shape),
        b: () => sumToShape(tf.mul(dy as tf.Tensor, float(a)), b.shape),
      };
    },
  },
  {
    kernelName: tf.RealDiv,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = savedTensors(tf.RealDiv, saved, 2);
      return {
        a: () => sumToShape(tf.div(dy as tf.Tensor, float(b)), a.shape),
        // d(a/b)/db = -a/b², summed over b's broadcast axes before dividing (b is constant along them).
        b: () => tf.neg(tf.div(sumToShape(tf.mul(dy as tf.Tensor, float(a)), b.shape), float(tf.square(b)))),
      };
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = savedTensors(tf.Sum, saved, 1);
      const { axis } = attrs as unknown as tf.SumAttrs;
      return { x: () => expandReduced(dy as tf.Tensor, x, axis) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = savedTensors(tf.Mean, saved, 1);
      const { axis } = attrs as unknown as tf.MeanAttrs;
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const count = axes.reduce((product, a) => product * (x.shape[a] as number), 1);
      return { x: () => tf.div(expandReduced(dy as tf.Tensor, x, axes), count) };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = savedTensors(tf.Reshape, saved, 1);
      return { x: () => tf.reshape(dy as tf.Tensor, x.shape) };
    },
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const { perm } = attrs as unknown as tf.TransposeAttrs;
      const undo = new Array<number>(perm.length);
      perm.forEach((axis, i) => {
        undo[axis] = i;
      });
      return { x: () => tf.transpose(dy as tf.Tensor, undo) };
    },
  },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = savedTensors(tf.BatchMatMul, saved, 2);
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      const g = dy as tf.Tensor;
      // C = op(A)·op(B): dA = dC·op(B)ᵀ (or its transpose), dB = op(A)ᵀ·dC (or its transpose); summed
      // over batch axes along which an input was broadcast.
      const [da, db] = !transposeA
        ? !transposeB
          ? [() => tf.matMul(g, b, false, true), () => tf.matMul(a, g, true, false)]
          : [() => tf.matMul(g, b, false, false), () => tf.matMul(g, a, true, false)]
        : !transposeB
          ? [() => tf.matMul(b, g, false, true), () => tf.matMul(a, g, false, false)]
          : [() => tf.matMul(b, g, true, true), () => tf.matMul(g, a, true, true)];
      return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
    },
  },
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = savedTensors(tf.Softmax, saved, 1);
      const { dim } = attrs as unknown as tf.SoftmaxAttrs;
      return {
        logits: () => {
          const dyTimesY = tf.mul(dy as tf.Tensor, y);
          return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
        },
      };
    },
  },
  {
    kernelName: tf.Unpack,
    gradFunc: (dy, _saved, attrs) => {
      const { axis } = attrs as unknown as tf.UnpackAttrs;
      return { value: () => tf.stack(dy as tf.Tensor[], axis) };
    },
  },
  {
    kernelName: tf.Cast,
    gradFunc: (dy) => ({ x: () => tf.clone(dy as tf.Tensor) }),
  },
  {
    kernelName: tf.Neg,
    gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) }),
  },
  {
    kernelName: tf.Exp,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = savedTensors(tf.Exp, saved, 1);
      return { x: () => tf.mul(dy as tf.Tensor, y) };
    },
  },
  {
    kernelName: tf.Log,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = savedTensors(tf.Log, saved, 1);
      return { x: () => tf.div(dy as tf.Tensor, float(x)) };
    },
  },
  {
    kernelName: tf.Square,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = savedTensors(tf.Square, saved, 1);
      return { x: () => tf.mul(dy as tf.Tensor, tf.mul(float(x), 2)) };
    },
  },
  {
    kernelName: tf.Sqrt,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = savedTensors(tf.Sqrt, saved, 1);
      return { x: () => tf.div(dy as tf.Tensor, tf.mul(tf.sqrt(float(x)), 2)) };
    },
  },
];

/** The kernels whose gradients `registerCoreGradients` provides. */
export const CORE_GRADIENT_KERNELS: readonly string[] = GRADIENTS.map((config) => config.kernelName);

/**
 * Registers the gradients above where tfjs has none (idempotent); returns the kernels registered now.
 * `initCompute` calls it, so that training works on tfjs-core without the bundle.
 */
export function registerCoreGradients(): string[] {
  const registered: string[] = [];
  for (const config of GRADIENTS) {
    if (tf.getGradient(config.kernelName) === undefined) {
      tf.registerGradient(config);
      registered.push(config.kernelName);
    }
  }
  return registered;
}
