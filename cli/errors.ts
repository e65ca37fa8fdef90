// A usage or input problem the person at the terminal can fix: printed as one line, exit code 2.
export class UsageError extends Error {
  override name = 'UsageError';
}
