/** Every task by its harness name. */
import { EvalError } from "./eval-errors.js";
import type { Task } from "./task.js";
import { arcChallenge } from "./tasks/arc-challenge.js";
import { arcEasy } from "./tasks/arc-easy.js";
import { lambadaOpenai } from "./tasks/lambada-openai.js";
import { logiqa } from "./tasks/logiqa.js";
import { piqa } from "./tasks/piqa.js";
import { sciq } from "./tasks/sciq.js";
import { winogrande } from "./tasks/winogrande.js";
import { wsc } from "./tasks/wsc.js";
import { wsc273 } from "./tasks/wsc273.js";

/** The tasks, in the column order of Pythia's tables (wsc273 last: it is not among them). */
export const TASKS: Readonly<Record<string, Task>> = {
  lambada_openai: lambadaOpenai as Task,
  piqa: piqa as Task,
  winogrande: winogrande as Task,
  wsc: wsc as Task,
  arc_easy: arcEasy as Task,
  arc_challenge: arcChallenge as Task,
  sciq: sciq as Task,
  logiqa: logiqa as Task,
  wsc273: wsc273 as Task,
};

/** Task names. */
export const TASK_NAMES: readonly string[] = Object.keys(TASKS);

/** The eight zero-shot tasks of the Pythia paper. */
export const PYTHIA_TASKS: readonly string[] = TASK_NAMES.filter((name) => name !== "wsc273");

/** The task called `name`. @throws EvalError (`UNKNOWN_TASK`) listing the known names. */
export function getTask(name: string): Task {
  const task = TASKS[name];
  if (task === undefined) {
    throw new EvalError("UNKNOWN_TASK", `unknown task "${name}"; known tasks: ${TASK_NAMES.join(", ")}`);
  }
  return task;
}
