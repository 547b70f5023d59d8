import type { Logger } from 'pino';
import type { HubRequest, HubResponse } from './http-message.ts';

/** Something that must know when a response closes, told by the response's one close listener. */
export interface ClosesWithResponse {
  responseClosed(): void;
}

// Where a response keeps its RequestLog, for the close listener that every response shares.
const LOG = Symbol('herald.requestLog');

interface LoggedResponse extends HubResponse {
  [LOG]?: RequestLog;
}

/**
 * Logs a request once its response closes: its id, method, path (never the query, which may
 * carry a token), HTTP version, status and duration. An object and one listener function shared
 * by every response, not a closure and its scope per request: an event stream keeps its
 * request's log entry for as long as it stays open. A stream's connection rides on the same
 * listener (`closes`), so an idle stream has one close listener, not a list of two.
 */
export class RequestLog {
  readonly #logger: Logger;
  readonly #req: HubRequest;
  readonly #requestId: string;
  readonly #started: number;
  /** Told first when the response closes (an event stream ends its subscription). */
  closes: ClosesWithResponse | undefined;

  private constructor(logger: Logger, req: HubRequest, requestId: string, started: number) {
    this.#logger = logger;
    this.#req = req;
    this.#requestId = requestId;
    this.#started = started;
  }

  /** Starts the log entry of `req`, written when `res` closes. */
  static open(
    logger: Logger,
    req: HubRequest,
    res: HubResponse,
    requestId: string,
    started: number,
  ): RequestLog {
    const log = new RequestLog(logger, req, requestId, started);
    (res as LoggedResponse)[LOG] = log;
    // `on`, not `once`: 'close' comes once, and `once` would make every open stream hold a
    // wrapper and its state.
    res.on('close', onResponseClose);
    return log;
  }

  #write(res: HubResponse): void {
    const req = this.#req;
    this.#logger.info(
      {
        requestId: this.#requestId,
        method: req.method,
        // Derived now, from the URL the request keeps anyway.
        path: (req.url ?? '/').split('?')[0],
        // "1.1" or "2.0": whether a client (or the proxy before Herald) multiplexes.
        httpVersion: req.httpVersion,
        status: res.statusCode,
        ms: Math.round(performance.now() - this.#started),
      },
      'request',
    );
  }

  static closed(res: LoggedResponse): void {
    const log = res[LOG];
    if (log === undefined) return;
    log.closes?.responseClosed();
    log.closes = undefined;
    log.#write(res);
  }
}

function onResponseClose(this: HubResponse): void {
  RequestLog.closed(this);
}
