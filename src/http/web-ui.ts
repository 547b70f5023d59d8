import { readFile } from 'node:fs/promises';
import type { DashboardFeed } from './dashboard-feed.ts';
import type { HubResponse } from './http-message.ts';

/** Where the UI's static files live: `ui/` at the package root, from `src/http` and `dist/http` alike. */
const ASSETS_DIR = new URL('../../ui/', import.meta.url);

const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

// The page talks only to this origin, and must not be framed (its forms publish with a token).
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export const UI_PATH = '/ui/';

/**
 * The web UI: a debugger and a live dashboard, three static files read once at start-up and
 * served from memory (a fixed list: no path from a request ever reaches the file system), and
 * the dashboard's feed at `/ui/stats`.
 */
export class WebUi {
  readonly #files: ReadonlyMap<string, Buffer>;
  readonly #feed: DashboardFeed;

  private constructor(files: ReadonlyMap<string, Buffer>, feed: DashboardFeed) {
    this.#files = files;
    this.#feed = feed;
  }

  static async load(feed: DashboardFeed): Promise<WebUi> {
    const files = new Map<string, Buffer>();
    for (const name of Object.keys(ASSETS)) {
      files.set(name, await readFile(new URL(name, ASSETS_DIR)));
    }
    return new WebUi(files, feed);
  }

  /** Serves `pathname` when it is the UI's; returns false when it is not. */
  serve(pathname: string, res: HubResponse): boolean {
    if (pathname === '/ui') {
      res.writeHead(308, { Location: UI_PATH });
      res.end();
      return true;
    }
    if (!pathname.startsWith(UI_PATH)) return false;
    const name = pathname.slice(UI_PATH.length) || 'index.html';
    if (name === 'stats') {
      this.#feed.open(res);
      return true;
    }
    const file = this.#files.get(name);
    const type = ASSETS[name];
    if (file === undefined || type === undefined) return false;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': file.byteLength,
      'Cache-Control': 'no-cache',
    });
    res.end(file);
    return true;
  }

  close(): void {
    this.#feed.closeAll();
  }
}
