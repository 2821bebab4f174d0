// `pnpm --filter @pythia/eval test:full`: the remaining tasks' full splits (several minutes on 2 cores).
import { describeFullSplits } from "./full-split.js";

describeFullSplits(["lambada_openai", "piqa", "arc_easy", "sciq", "logiqa"]);
