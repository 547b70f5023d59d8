import type { KeyObject } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import type { JwtAlgorithm } from '../../src/config.ts';

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly privatePem: string;
  readonly publicPem: string;
}

/** A fresh key pair that fits an asymmetric algorithm. */
export function keyPairFor(algorithm: Exclude<JwtAlgorithm, `HS${string}`>): KeyPair {
  const { privateKey, publicKey } = generate(algorithm);
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function generate(algorithm: string) {
  if (algorithm.startsWith('RS') || algorithm.startsWith('PS')) {
    return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
  if (algorithm === 'EdDSA') return generateKeyPairSync('ed25519');
  const namedCurve = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[algorithm] ?? 'P-256';
  return generateKeyPairSync('ec', { namedCurve });
}

export interface SignOptions {
  readonly algorithm: string;
  readonly key: KeyObject | Uint8Array;
  readonly kid?: string;
  /** Seconds from now; absent: no `exp`. */
  readonly expiresIn?: number;
  readonly notBefore?: number;
}

/** Signs claims with jose directly, bypassing Herald's own checks (for forging bad tokens). */
export async function sign(claims: JWTPayload, options: SignOptions): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: options.algorithm,
    ...(options.kid === undefined ? {} : { kid: options.kid }),
  });
  const now = Math.floor(Date.now() / 1000);
  if (options.expiresIn !== undefined) jwt.setExpirationTime(now + options.expiresIn);
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(options.key);
}

/** An unsigned token (`alg: none`), which no configuration may accept. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export interface JwksServer {
  readonly url: string;
  /** How many times the set was fetched. */
  readonly fetches: number;
  /** Replaces the keys served from now on. */
  serve(keys: readonly { kid: string; algorithm: string; publicKey: KeyObject }[]): Promise<void>;
  /** Answers 500 from now on. */
  fail(): void;
}

/** A JWKS endpoint on a local node:http server (port 0), closed when the test ends. */
export async function startJwksServer(t: TestContext): Promise<JwksServer> {
  let body = JSON.stringify({ keys: [] });
  let failing = false;
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    if (failing) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    async serve(keys) {
      const jwks: JWK[] = [];
      for (const { kid, algorithm, publicKey } of keys) {
        jwks.push({ ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' });
      }
      body = JSON.stringify({ keys: jwks });
      failing = false;
    },
    fail() {
      failing = true;
    },
  };
}
