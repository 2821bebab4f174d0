// A push in its own process, for test/push-kill.test.ts: `node push-child.mjs HUB_URL REPO RUN_DIR`.
// Exits 0 when the push finished, 1 with the error's message on stderr otherwise.
import { pushRun } from "../dist/index.js";

const [hubUrl, repo, dir] = process.argv.slice(2);
try {
  await pushRun({
    repo,
    hubUrl,
    dir,
    accessToken: "hf_test_token",
    retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 },
  });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
