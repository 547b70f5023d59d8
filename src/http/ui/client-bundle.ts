import { readFile } from 'node:fs/promises';
import type { HubResponse } from '../http-message.ts';

/** The stable path where the hub serves the browser build of `herald/client`. */
export const CLIENT_BUNDLE_PATH = '/herald-client.js';

/** `npm run build:browser` writes it here; the same path from `src/http/ui` and `dist/http/ui`. */
const BUNDLE = new URL('../../../dist/browser/herald-client.js', import.meta.url);

/**
 * The browser build of the client SDK, read once at start-up. A page on another origin loads it
 * as a module script, which browsers fetch in CORS mode: it is public code, so any origin may.
 */
export class ClientBundle {
  readonly #code: Buffer | undefined;

  private constructor(code: Buffer | undefined) {
    this.#code = code;
  }

  static async load(): Promise<ClientBundle> {
    try {
      return new ClientBundle(await readFile(BUNDLE));
    } catch {
      return new ClientBundle(undefined); // Not built: answered with a 404 that says so.
    }
  }

  /** Serves the bundle; returns false when it was not built. */
  serve(res: HubResponse): boolean {
    if (this.#code === undefined) return false;
    res.writeHead(200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Content-Length': this.#code.byteLength,
      'Cache-Control': 'public, max-age=300',
      'Access-Control-Allow-Origin': '*',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(this.#code);
    return true;
  }
}
