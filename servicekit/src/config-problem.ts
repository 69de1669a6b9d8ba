/** A key of a mapping or an index of a list, from the root of a config document (or the variable name). */
export type PathSegment = string | number;

/** One thing wrong with a configuration, with where it is. */
export interface ConfigProblem {
  /** The variable (`['RETRY_COUNT']`) or the document path (`['routes', 0, 'prefix']`). */
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** The value had the wrong type (a YAML string where a mapping belongs); nothing else is said about it. */
  readonly wrongType?: boolean;
  /** An extra line telling the reader how to fix it. */
  readonly hint?: string;
}

/** `path` lies at or below `place`. */
export function isWithin(path: readonly PathSegment[], place: readonly PathSegment[]): boolean {
  return place.length <= path.length && place.every((segment, i) => path[i] === segment);
}
