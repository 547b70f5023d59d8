import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { DashboardFeed } from './dashboard-feed.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';

/** Where the UI's own files live: `ui/` at the package root, from `src/http/ui` and `dist/http/ui` alike. */
const ASSETS_DIR = new URL('../../../ui/', import.meta.url);

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  text: 'text/plain; charset=utf-8',
} as const;

/** The UI's files by the name they are served under, and where each comes from. */
const ASSETS: Readonly<Record<string, { readonly type: string; readonly url: () => URL }>> = {
  'index.html': { type: TYPES.html, url: () => new URL('index.html', ASSETS_DIR) },
  'app.js': { type: TYPES.js, url: () => new URL('app.js', ASSETS_DIR) },
  'charts.js': { type: TYPES.js, url: () => new URL('charts.js', ASSETS_DIR) },
  'event-stream.js': { type: TYPES.js, url: () => new URL('event-stream.js', ASSETS_DIR) },
  'style.css': { type: TYPES.css, url: () => new URL('style.css', ASSETS_DIR) },
  'favicon.svg': { type: TYPES.svg, url: () => new URL('favicon.svg', ASSETS_DIR) },
  // uPlot, the chart library, served from the installed package (a dependency), with its
  // license: no CDN, nothing fetched at run time.
  'vendor/uPlot.iife.min.js': { type: TYPES.js, url: () => vendor('uplot/dist/uPlot.iife.min.js') },
  'vendor/uPlot.min.css': { type: TYPES.css, url: () => vendor('uplot/dist/uPlot.min.css') },
  'vendor/uPlot.LICENSE.txt': { type: TYPES.text, url: () => vendor('uplot/LICENSE') },
};

function vendor(specifier: string): URL {
  return new URL(`file://${createRequire(import.meta.url).resolve(specifier)}`);
}

// The page talks only to this origin, and must not be framed (its forms publish with a token).
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

// Where index.html says the development token goes, and the tag that carries it.
const TOKEN_SLOT = '<!-- development publisher token -->';

export const UI_PATH = '/ui/';

export interface WebUiOptions {
  /**
   * Development mode only: the publisher token the CLI printed, which the debugger pre-fills.
   * Given only to pages loaded from the loopback interface (a browser on the same machine),
   * never to the network.
   */
  readonly developmentPublisherToken?: string | null | undefined;
}

/**
 * The web UI: a debugger and a live dashboard, a fixed list of static files read once at
 * start-up and served from memory (no path from a request ever reaches the file system), and
 * the dashboard's feed at `/ui/stats`.
 */
export class WebUi {
  readonly #files: ReadonlyMap<string, Buffer>;
  readonly #feed: DashboardFeed;
  /** index.html with the development token in it, when there is one. */
  readonly #indexWithToken: Buffer | undefined;

  private constructor(
    files: ReadonlyMap<string, Buffer>,
    feed: DashboardFeed,
    indexWithToken: Buffer | undefined,
  ) {
    this.#files = files;
    this.#feed = feed;
    this.#indexWithToken = indexWithToken;
  }

  static async load(feed: DashboardFeed, options: WebUiOptions = {}): Promise<WebUi> {
    const files = new Map<string, Buffer>();
    for (const [name, asset] of Object.entries(ASSETS)) {
      files.set(name, await readFile(asset.url()));
    }
    const token = options.developmentPublisherToken;
    let indexWithToken: Buffer | undefined;
    if (typeof token === 'string' && token !== '') {
      const index = files.get('index.html')?.toString('utf8') ?? '';
      const tag = `<meta name="herald-development-publisher-token" content="${escapeAttribute(token)}" />`;
      indexWithToken = Buffer.from(index.replace(TOKEN_SLOT, tag), 'utf8');
    }
    return new WebUi(files, feed, indexWithToken);
  }

  /** Serves `pathname` when it is the UI's; returns false when it is not. */
  async serve(pathname: string, req: HubRequest, res: HubResponse): Promise<boolean> {
    if (pathname === '/ui') {
      res.writeHead(308, { Location: UI_PATH });
      res.end();
      return true;
    }
    if (!pathname.startsWith(UI_PATH)) return false;
    const name = pathname.slice(UI_PATH.length) || 'index.html';
    if (name === 'stats') {
      await this.#feed.open(req, res);
      return true;
    }
    let file = this.#files.get(name);
    const type = ASSETS[name]?.type;
    if (file === undefined || type === undefined) return false;
    if (name === 'index.html' && this.#indexWithToken !== undefined && fromLoopback(req)) {
      file = this.#indexWithToken;
    }
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

/**
 * Whether the request comes from a browser on this machine: the socket's peer is loopback and
 * no proxy says it forwarded the request (a proxy on this machine would otherwise hand the
 * token to whoever it serves).
 */
function fromLoopback(req: HubRequest): boolean {
  const { headers } = req;
  if (headers['x-forwarded-for'] !== undefined || headers['forwarded'] !== undefined) return false;
  if (headers['x-real-ip'] !== undefined) return false;
  const address = req.socket.remoteAddress ?? '';
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function escapeAttribute(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}
