// A usage or input problem the person at the terminal can fix: printed as one line, exit code 2.
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Playwright could not list the conformance suites (a broken suite or config): nothing was run; its words are in the message. */
export class SuitesNotListed extends Error {
  override name = 'SuitesNotListed';
}
