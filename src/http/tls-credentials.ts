import type { KeyObject } from 'node:crypto';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsConfig } from '../config.ts';

/**
 * A certificate or key that cannot serve HTTPS, found at start-up. The message names the option
 * at fault (a CLI flag, or a `startHerald()` option) and never holds the key itself.
 */
export class TlsCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsCredentialsError';
  }
}

/** The certificate (chain) and private key, as PEM text. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

/** How errors name the two options: `startHerald()`'s by default, the CLI's flags otherwise. */
export interface TlsOptionNames {
  readonly cert: string;
  readonly key: string;
}

const CONFIG_NAMES: TlsOptionNames = { cert: 'tls.cert', key: 'tls.key' };

/**
 * Reads the certificate and key (PEM text, or files) and checks, once, that the certificate
 * parses, the key parses, and the key is the certificate's: a mismatch would otherwise only
 * show as every client's handshake failing.
 */
export function loadTlsCredentials(
  tls: TlsConfig,
  names: TlsOptionNames = CONFIG_NAMES,
): TlsCredentials {
  const cert = readPem(tls.cert, names.cert, true);
  const key = readPem(tls.key, names.key, false);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new TlsCredentialsError(
      `${names.cert} does not hold a PEM certificate that parses (${(error as Error).message}).`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsCredentialsError(
      (error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE'
        ? `${names.key} is an encrypted private key: Herald cannot ask for its passphrase; decrypt it first (openssl pkey -in key.pem -out plain.pem).`
        : `${names.key} does not hold a PEM private key that parses (${(error as Error).message}).`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsCredentialsError(
      `${names.key} is not the private key of the certificate in ${names.cert} (subject ${certificate.subject.replaceAll('\n', ', ')}).`,
    );
  }
  return { cert, key };
}

/** PEM text as given, or read from the file the value names. */
function readPem(source: string, name: string, showPath: boolean): string {
  if (source.trimStart().startsWith('-----BEGIN')) return source;
  if (source === '') throw new TlsCredentialsError(`${name} is empty.`);
  try {
    return readFileSync(source, 'utf8');
  } catch (error) {
    // A certificate's path is shown; a key's value is not: it may be a secret given where a
    // path was expected.
    const where = showPath ? `"${source}"` : 'the file';
    throw new TlsCredentialsError(
      `${name} must be PEM text or the path of a PEM file; ${where} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
}
