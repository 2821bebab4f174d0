import { readFileSync } from "node:fs";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { describe, expect, it } from "vitest";
import { buildTaskRequests } from "./index.js";
import { FIXTURE_TASKS, fixturePath, readHarnessFixture, sharedData } from "../test/helpers.js";

const dataDir = sharedData("eval");
const docOrder = JSON.parse(readFileSync(fixturePath("harness-v0.3.0/doc_order.json"), "utf8")) as Record<
  string,
  number[]
>;

describe.runIf(dataDir !== null)("buildTaskRequests against harness v0.3.0 (full local splits)", () => {
  it.each(FIXTURE_TASKS)("%s: doc order, docs, request strings and token ids", async (name) => {
    const tokenizer = await loadPileTokenizer();
    const built = buildTaskRequests({ task: name, dataDir: dataDir as string });
    expect(built.docs.map((doc) => doc.sourceIndex)).toEqual(docOrder[name]);
    const fixture = readHarnessFixture(name);
    for (const record of fixture) {
      const ours = built.docs[record.doc_id]!;
      expect(ours.sourceIndex).toBe(record.source_index);
      if (name !== "winogrande") {
        // The local WinoGrande copy is MosaicML's; the rebuilt doc may differ in spacing (README data notes).
        expect(ours.doc).toEqual(record.doc);
      }
      expect(ours.requests.map((r) => [r.context, r.continuation])).toEqual(
        record.requests.map((r) => [r.context, r.continuation]),
      );
      for (const [i, request] of ours.requests.entries()) {
        const expected = record.requests[i]!;
        expect(tokenizer.encode(request.context)).toEqual(expected.context_ids);
        expect(tokenizer.encode(request.continuation)).toEqual(expected.continuation_ids);
      }
    }
  });
});

describe.runIf(dataDir !== null)("few-shot contexts (the harness's seeded rnd.sample)", () => {
  it("lambada_openai 2-shot: examples drawn after the shuffle by the same generator (CPython reference)", () => {
    const built = buildTaskRequests({
      task: "lambada_openai",
      dataDir: dataDir as string,
      numFewshot: 2,
      limit: 2,
    });
    const zero = buildTaskRequests({ task: "lambada_openai", dataDir: dataDir as string });
    const docs = zero.task.loadDocs(dataDir as string) as Array<{ text: string }>;
    const shot = (i: number) => docs[i]!.text; // doc_to_text + doc_to_target = the whole text
    // random.Random(42): shuffle(5153 docs), then sample(docs, 3) per doc minus the doc itself.
    expect(built.docs[0]!.requests[0]!.context).toBe(
      `${shot(3882)}\n\n${shot(1280)}\n\n${zero.docs[0]!.requests[0]!.context}`,
    );
    expect(built.docs[1]!.requests[0]!.context).toBe(
      `${shot(1801)}\n\n${shot(1117)}\n\n${zero.docs[1]!.requests[0]!.context}`,
    );
  });

  it("winogrande k-shot keeps examples and replaces the last chunk by each partial context", async () => {
    const { appendContext } = await import("./tasks/winogrande.js");
    expect(appendContext("A b\n\nC d\n\nThe x", "The y")).toBe("A b\n\nC d\n\nThe y");
    expect(appendContext("The x", "The y")).toBe("The y");
  });

  it("a task whose training split is not local fails with FEWSHOT instead of drawing elsewhere", () => {
    expect(() => buildTaskRequests({ task: "piqa", dataDir: dataDir as string, numFewshot: 1 })).toThrow(
      /piqa: 1-shot contexts sample the training split .*piqa\/train\.jsonl/,
    );
  });
});
