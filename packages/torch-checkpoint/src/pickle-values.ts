// The values the pickle machine builds beyond JS's own (numbers, bigints, strings, Uint8Arrays, arrays
// for lists, Maps for dicts, Sets): tuples, the allow-listed callables that GLOBAL resolves to, and
// the placeholders that stand for globals a caller chose to skip rather than refuse.

/**
 * Where the attributes a pickle sets on a dict with BUILD (e.g. a state dict's `_metadata`) are kept:
 * `(dict as { [PICKLE_ATTRIBUTES]?: unknown })[PICKLE_ATTRIBUTES]`.
 */
export const PICKLE_ATTRIBUTES: unique symbol = Symbol.for("@pythia/torch-checkpoint.pickle-attributes");

/** A Python tuple (kept apart from lists, which are JS arrays). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** An allow-listed global: a JS implementation of a known, side-effect-free Python callable. */
export interface PickleCallable {
  readonly module: string;
  readonly name: string;
  /** Builds the value `module.name(*args)` would; must not touch anything outside its arguments. */
  call(args: readonly unknown[], offset: number): unknown;
}

/** A global outside the allow-list, kept as a name because the caller asked to skip, not refuse. */
export class OpaqueGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** What calling (or instantiating) an `OpaqueGlobal` gives: its arguments, never a result. */
export class OpaqueObject {
  /** State passed by BUILD, if any. */
  state: unknown = undefined;
  /** Items added with APPEND(S) / SETITEM(S), if any. */
  readonly listItems: unknown[] = [];
  readonly dictItems = new Map<unknown, unknown>();
  constructor(
    readonly global: OpaqueGlobal,
    readonly args: readonly unknown[],
  ) {}
}
