// The reader's one error: what is wrong with a capture, and where.

/** A capture the reader cannot use: names the source, and the byte offset of the bad block when there is one. */
export class CaptureError extends Error {
  constructor(
    readonly source: string,
    /** File offset of the block or record at fault; undefined for whole-file refusals. */
    readonly offset: number | undefined,
    readonly reason: string,
    /** How many good packets were delivered before the fault. */
    readonly packetsBefore = 0,
    /** Set when the refusal is about the link type. */
    readonly linkType?: number,
  ) {
    super(`${source}: ${offset === undefined ? '' : `at byte offset ${offset}: `}${reason}`);
    this.name = 'CaptureError';
  }
}
