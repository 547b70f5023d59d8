/**
 * A store cannot be used at start-up (corrupt, foreign or locked file, unknown schema): a message
 * for the operator that names the file. Kept apart from the stores so the CLI can recognize it
 * without loading a store's native driver.
 */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}
