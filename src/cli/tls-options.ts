import type { TlsConfig } from '../config.ts';
import { loadTlsCredentials, TlsCredentialsError } from '../http/tls-credentials.ts';
import { OptionError } from './option-reading.ts';
import type { PickOption } from './option-reading.ts';

export const TLS_FLAGS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

export type TlsFlag = keyof typeof TLS_FLAGS;

export const TLS_HELP = `  --tls-cert <file>          serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate (chain)
                                                                   HERALD_TLS_CERT
  --tls-key <file>           the certificate's PEM private key (unencrypted)   HERALD_TLS_KEY`;

/**
 * Reads the certificate and key flags: both or neither. Both are loaded as the hub will, so a
 * missing file, or a key that is not the certificate's, stops start-up with a message naming
 * the flag.
 */
export function parseTlsOptions(pick: PickOption<TlsFlag>): TlsConfig | undefined {
  const cert = pick('tls-cert', 'HERALD_TLS_CERT');
  const key = pick('tls-key', 'HERALD_TLS_KEY');
  if (cert === undefined) {
    if (key === undefined) return undefined;
    throw halfAPair(key[0], '--tls-cert (HERALD_TLS_CERT)');
  }
  if (key === undefined) throw halfAPair(cert[0], '--tls-key (HERALD_TLS_KEY)');
  const tls = { cert: cert[1], key: key[1] };
  try {
    loadTlsCredentials(tls, { cert: cert[0], key: key[0] });
  } catch (error) {
    throw error instanceof TlsCredentialsError ? new OptionError(error.message) : error;
  }
  return tls;
}

function halfAPair(given: string, missing: string): OptionError {
  return new OptionError(
    `${given} is set but ${missing} is not: HTTPS needs both a certificate and its private key.`,
  );
}
