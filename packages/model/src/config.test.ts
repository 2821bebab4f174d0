import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  fromHfConfig,
  fromNeoxYaml,
  ModelError,
  parameterCount,
  parseConfig,
  PYTHIA_PRESETS,
  pythiaPreset,
  toHfConfig,
  toNeoxYaml,
} from "./index.js";
import { initStd } from "./init.js";
import { fixturePath } from "../test/helpers.js";

// shared/data/pythia-configs.md: total and non-embedding parameters per size.
const TABLE: Array<[string, number, number]> = [
  ["pythia-14m", 14_067_712, 1_189_888],
  ["pythia-31m", 30_494_720, 4_739_072],
  ["pythia-70m", 70_426_624, 18_915_328],
  ["pythia-160m", 162_322_944, 85_056_000],
  ["pythia-410m", 405_334_016, 302_311_424],
  ["pythia-1b", 1_011_781_632, 805_736_448],
  ["pythia-1.4b", 1_414_647_808, 1_208_602_624],
  ["pythia-2.8b", 2_775_208_960, 2_517_652_480],
  ["pythia-6.9b", 6_857_302_016, 6_444_163_072],
  ["pythia-12b", 11_846_072_320, 11_327_027_200],
];

describe("Pythia presets", () => {
  it.each(TABLE)("%s has %i parameters (%i non-embedding)", (name, total, nonEmbedding) => {
    expect(parameterCount(pythiaPreset(name))).toEqual({ total, nonEmbedding });
  });

  it("has every size, with the padded vocab and the init methods of the configs", () => {
    expect(Object.keys(PYTHIA_PRESETS)).toEqual(TABLE.map(([name]) => name));
    expect(pythiaPreset("6.9b").vocabSize).toBe(50432);
    expect(pythiaPreset("pythia-12b-deduped").vocabSize).toBe(50688);
    expect(pythiaPreset("160m")).toMatchObject({
      initMethod: "small_init",
      outputLayerInitMethod: "wang_init",
      rotaryPct: 0.25,
    });
    expect(pythiaPreset("12b")).toMatchObject({
      initMethod: "normal",
      outputLayerInitMethod: "scaled_normal",
    });
    expect(() => pythiaPreset("pythia-3b")).toThrow(/unknown preset "pythia-3b"; choose one of pythia-14m/);
  });

  it("init stds equal the reference table", () => {
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(5e-8);
    close(initStd("small_init", pythiaPreset("14m")), 0.0559017);
    close(initStd("wang_init", pythiaPreset("14m")), 0.0294628);
    close(initStd("wang_init", pythiaPreset("160m")), 0.00601407);
    close(initStd("small_init", pythiaPreset("2.8b")), 0.0125);
    close(initStd("scaled_normal", pythiaPreset("12b")), 0.00235702);
  });
});

describe("HF config.json", () => {
  it("reads the fixtures' config.json and writes it back with the same keys and values", () => {
    const json = JSON.parse(readFileSync(fixturePath("pythia-micro/config.json"), "utf8"));
    const config = fromHfConfig(json);
    expect(config).toMatchObject({
      vocabSize: 512,
      hiddenSize: 32,
      numHeads: 4,
      numLayers: 2,
      intermediateSize: 128,
      gelu: "erf",
      useParallelResidual: true,
    });
    expect(toHfConfig(config)).toEqual(json);
  });

  it("rejects other models and unsupported options with the file named", () => {
    expect(() => fromHfConfig({ model_type: "llama" }, "x/config.json")).toThrow(
      /x\/config\.json: model_type is "llama"/,
    );
    const json = JSON.parse(readFileSync(fixturePath("pythia-micro/config.json"), "utf8"));
    expect(() => fromHfConfig({ ...json, hidden_act: "relu" }, "c.json")).toThrow(
      /hidden_act "relu" is not supported/,
    );
    expect(() => fromHfConfig({ ...json, rope_scaling: { type: "linear" } }, "c.json")).toThrow(
      /rope_scaling is not supported/,
    );
    expect(() => fromHfConfig({ ...json, hidden_size: 30 }, "c.json")).toThrow(ModelError);
    expect(() => fromHfConfig({ ...json, num_hidden_layers: "2" }, "c.json")).toThrow(
      /c\.json: invalid configuration: numLayers/,
    );
  });

  it("validates shapes", () => {
    expect(() =>
      parseConfig({ vocabSize: 10, hiddenSize: 10, numLayers: 1, numHeads: 3, intermediateSize: 4 }),
    ).toThrow(/not divisible by numHeads 3/);
  });
});

describe("GPT-NeoX YAML", () => {
  it("parses a Pythia-style .yml as-is (comments, trailing commas) into the 160m preset", () => {
    const config = fromNeoxYaml({ yaml: readFileSync(fixturePath("pythia-160m-like.yml"), "utf8") });
    expect({ ...config, gelu: "erf" }).toEqual(pythiaPreset("160m"));
    expect(config.gelu).toBe("tanh"); // bias-gelu-fusion: GPT-NeoX trained with the tanh GELU
  });

  it("pads the vocabulary by model-parallel size, and round-trips", () => {
    const yaml = toNeoxYaml(pythiaPreset("6.9b"));
    const config = fromNeoxYaml({ yaml: `${yaml}\nmodel-parallel-size: 2\n` });
    expect(config.vocabSize).toBe(50432);
    expect(fromNeoxYaml({ yaml: toNeoxYaml(pythiaPreset("70m")) })).toEqual(pythiaPreset("70m"));
    expect(() =>
      fromNeoxYaml({
        yaml: '{"num-layers": 2, "hidden-size": 8, "num-attention-heads": 2, "pos-emb": "learned"}',
        source: "a.yml",
      }),
    ).toThrow(/a\.yml: pos-emb "learned" is not supported/);
  });
});
