import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import { LIMITS, parseJsonBounded, readBoundedFile } from '../limits.js';

/** What we may present to a registry. */
export type Credentials =
  | { kind: 'basic'; username: string; password: string }
  /** an access token, sent as `Authorization: Bearer` */
  | { kind: 'token'; token: string }
  /** a Docker identity token: an OAuth2 refresh token exchanged at the registry's token service */
  | { kind: 'refresh'; token: string }
  | { kind: 'anonymous' };

export interface CredentialOptions {
  /** `--username` with `--password-stdin` */
  username?: string;
  password?: string;
  /** default: process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Where credentials come from, first match wins: explicit username/password,
 * `MODELSEAL_REGISTRY_TOKEN` (a bearer token sent as is), then the Docker
 * config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
 * a credential helper named for the host (`credHelpers`), the default store
 * (`credsStore`), then an inline `auths` entry. No match: anonymous.
 */
export function resolveCredentials(registry: string, o: CredentialOptions = {}): Credentials {
  const env = o.env ?? process.env;
  if (o.username !== undefined || o.password !== undefined) {
    if (!o.username || o.password === undefined) throw new InputError('BAD_OPTION', '--username needs --password-stdin (and the reverse)');
    return { kind: 'basic', username: o.username, password: o.password };
  }
  if (env.MODELSEAL_REGISTRY_TOKEN) return { kind: 'token', token: env.MODELSEAL_REGISTRY_TOKEN };
  const file = path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? homedir(), '.docker'), 'config.json');
  let cfg: DockerConfig;
  try {
    cfg = parseJsonBounded(readBoundedFile(file, { limit: LIMITS.policyBytes, what: 'Docker config', notFoundCode: 'DOCKER_CONFIG_UNREADABLE' }), file) as DockerConfig;
  } catch (err) {
    if (err instanceof InputError && err.code === 'DOCKER_CONFIG_UNREADABLE' && /ENOENT|ENOTDIR/.test(err.message)) return { kind: 'anonymous' };
    throw err;
  }
  if (typeof cfg !== 'object' || cfg === null) throw new InputError('BAD_DOCKER_CONFIG', `${file}: not a JSON object`);
  const helper = cfg.credHelpers?.[registry] ?? cfg.credsStore;
  if (typeof helper === 'string' && helper) {
    const c = fromHelper(helper, registry, env);
    if (c) return c;
  }
  const entry = lookupAuth(cfg.auths ?? {}, registry);
  if (entry) {
    if (typeof entry.identitytoken === 'string' && entry.identitytoken) return { kind: 'refresh', token: entry.identitytoken };
    if (typeof entry.auth === 'string' && entry.auth) {
      const text = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i <= 0) throw new InputError('BAD_DOCKER_CONFIG', `${file}: auths["${registry}"].auth is not base64 of user:password`);
      return { kind: 'basic', username: text.slice(0, i), password: text.slice(i + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') return { kind: 'basic', username: entry.username, password: entry.password };
  }
  return { kind: 'anonymous' };
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** `auths` keys are written as `host`, `https://host` or `https://host/v1/`: match any of them. */
function lookupAuth(auths: NonNullable<DockerConfig['auths']>, registry: string) {
  for (const [k, v] of Object.entries(auths)) {
    const host = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (host === registry) return v;
  }
  return undefined;
}

/** Runs `docker-credential-<name> get` with the host on stdin, as docker does. */
function fromHelper(name: string, registry: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new InputError('BAD_DOCKER_CONFIG', `credential helper name "${name}" is not a plain name`);
  const bin = `docker-credential-${name}`;
  const r = spawnSync(bin, ['get'], { input: registry, encoding: 'utf8', env, timeout: 30_000, maxBuffer: 1 << 20 });
  if (r.error) throw new InputError('CREDENTIAL_HELPER_FAILED', `${bin}: cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`, { cause: r.error });
  if (r.status !== 0) {
    // helpers print "credentials not found in native keychain" for a host they do not know
    if (/not found/i.test(r.stdout + r.stderr)) return undefined;
    throw new InputError('CREDENTIAL_HELPER_FAILED', `${bin} get exited ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  }
  let out: { Username?: unknown; Secret?: unknown };
  try {
    out = JSON.parse(r.stdout) as typeof out;
  } catch {
    throw new InputError('CREDENTIAL_HELPER_FAILED', `${bin} get did not print JSON`);
  }
  if (typeof out.Secret !== 'string') throw new InputError('CREDENTIAL_HELPER_FAILED', `${bin} get printed no Secret`);
  // docker's convention: the user name "<token>" marks an identity token
  if (out.Username === '<token>') return { kind: 'refresh', token: out.Secret };
  return { kind: 'basic', username: String(out.Username ?? ''), password: out.Secret };
}
