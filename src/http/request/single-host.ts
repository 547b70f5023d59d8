import { HeraldError } from '../../core/errors.ts';
import type { HubRequest } from '../http-message.ts';
import { DirectRequest } from '../direct/direct-request.ts';

/**
 * Refuses an HTTP/1.x request with more than one Host field line, as RFC 9112 §3.2 requires of a
 * server. Node keeps the first of them and drops the rest, while a proxy or cache in front may
 * have acted on another: the two would disagree on which host was asked (request smuggling,
 * cache poisoning), and the hub URL draft-08 derives from Host would be the attacker's pick.
 * The stream door hands such a head to Node, so a direct request never holds two.
 */
export function assertSingleHost(req: HubRequest): void {
  if (req instanceof DirectRequest || req.httpVersionMajor !== 1) return;
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name?.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) {
      throw new HeraldError(
        'HERALD_ERR_MALFORMED_REQUEST',
        'The request holds more than one Host header; send exactly one.',
      );
    }
  }
}
