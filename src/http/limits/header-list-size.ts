import { HeraldError } from '../../core/errors.ts';
import type { HubRequest } from '../http-message.ts';
import { isHttp2 } from '../http-message.ts';

// RFC 7541 §4.1: each header counts its name, its value and 32 octets of overhead.
const PER_HEADER_OVERHEAD = 32;

/**
 * Refuses an HTTP/2 request whose headers are over `maxBytes` (as HTTP/2 counts a header list).
 * Node's HTTP/1.1 parser enforces `--max-header-size` itself (431 from the parser); over HTTP/2
 * the SETTINGS value is only advertised, so the hub checks it before routing.
 */
export function assertHeaderListSize(req: HubRequest, maxBytes: number): void {
  if (!isHttp2(req)) return;
  let size = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    size += (raw[i]?.length ?? 0) + (raw[i + 1]?.length ?? 0) + PER_HEADER_OVERHEAD;
  }
  if (size > maxBytes) {
    throw new HeraldError(
      'HERALD_ERR_HEADERS_TOO_LARGE',
      "The request headers are larger than this hub's maximum header size.",
    );
  }
}
