import type { TlsConfig } from '../config.ts';
import { loadTlsCredentials, TlsCredentialsError } from '../http/tls-credentials.ts';
import { OptionError } from './option-reading.ts';
import type { PickGiven } from './option-sources.ts';

/**
 * Reads the certificate and key flags: both or neither. Both are loaded as the hub will, so a
 * missing file, or a key that is not the certificate's, stops start-up with a message naming
 * the flag.
 */
export function parseTlsOptions(pick: PickGiven): TlsConfig | undefined {
  const cert = pick('tls-cert');
  const key = pick('tls-key');
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
