// The default suite's full-split checks: the tasks that score fast on 2 cores. The others run with
// `pnpm --filter @pythia/eval test:full` (test/full-split.full.test.ts).
import { describeFullSplits } from "./full-split.js";

describeFullSplits(["wsc", "winogrande", "arc_challenge"]);
