// Small random GPT-NeoX models for tests: 2 heads of 8, an MLP of twice the width, the wasm backend.
import { GPTNeoXModel, initCompute, parseConfig } from "@pythia/model";

/** A randomly initialised model of hidden size 16 (rotary on half of each head unless given). */
export async function tinyModel(params: {
  vocabSize: number;
  numLayers: number;
  maxPositionEmbeddings: number;
  seed: number;
  rotaryPct?: number;
  eosTokenId?: number;
}): Promise<GPTNeoXModel> {
  await initCompute({ backend: "wasm" });
  const config = parseConfig({
    vocabSize: params.vocabSize,
    hiddenSize: 16,
    numLayers: params.numLayers,
    numHeads: 2,
    intermediateSize: 32,
    rotaryPct: params.rotaryPct ?? 0.5,
    maxPositionEmbeddings: params.maxPositionEmbeddings,
    ...(params.eosTokenId === undefined ? {} : { eosTokenId: params.eosTokenId }),
  });
  return GPTNeoXModel.initialize({ config, seed: params.seed });
}
