/** The command name, in messages. */
export const NAME = "pythia-train";
