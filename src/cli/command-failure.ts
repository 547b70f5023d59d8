/**
 * A command that ran and failed for a reason outside the operator's flags: the hub refused, or
 * could not be reached. Carries the documented exit status (see `herald --help`).
 */
export class CommandFailure extends Error {
  constructor(
    message: string,
    /** 1: no answer, or the hub failed (5xx); 3: the hub refused (4xx). */
    readonly exitCode: 1 | 3,
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}
