/**
 * `@pythia/core/testing`: what the test suites of the `@pythia/*` packages share. Reference files too
 * large to commit live beside the repository in `../shared/fixtures` and `../shared/data`
 * (overridable with `PYTHIA_SHARED_FIXTURES` / `PYTHIA_SHARED_DATA`); a test that needs one skips
 * locally when it is absent and fails under `CI=true`. A subpath so that no library entry loads it.
 */
export { sharedData, sharedFixture, sharedPath, type SharedFolder } from "./testing/shared-path.js";
export { seededRandom, testSeed } from "./testing/seeded-random.js";
