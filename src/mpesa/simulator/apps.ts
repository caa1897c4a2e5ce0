import { randomBytes } from 'node:crypto';
import { error } from './wire.js';

/** A Daraja app: its own consumer key/secret (and token) and the shortcodes it may use. */
export interface DarajaApp {
  consumerKey: string;
  consumerSecret: string;
  shortcode: string;
  passkey: string;
}

export interface RegisteredApp {
  consumerKey: string;
  consumerSecret: string;
  /** shortcode → passkey */
  shortcodes: Map<string, string>;
}

/**
 * The apps the simulator knows and their tokens. Each app has one live token: issuing a new
 * one invalidates its previous one (the Daraja FAQ), but not another app's — so a platform
 * and each business with its own credentials keep separate tokens.
 */
export class AppRegistry {
  private readonly apps = new Map<string, RegisteredApp>();
  private readonly tokens = new Map<string, { app: string; expiresAt: number }>();
  tokenRequests = 0;

  constructor(private readonly tokenTtlSeconds: number) {}

  add(app: DarajaApp): void {
    const shortcodes = this.apps.get(app.consumerKey)?.shortcodes ?? new Map<string, string>();
    shortcodes.set(app.shortcode, app.passkey);
    this.apps.set(app.consumerKey, {
      consumerKey: app.consumerKey,
      consumerSecret: app.consumerSecret,
      shortcodes,
    });
  }

  /** `GET /oauth/v1/generate` with `Authorization: Basic base64(key:secret)`. */
  issueToken(authorization: string | undefined): [number, unknown] {
    const basic = /^Basic (.+)$/.exec(authorization ?? '')?.[1] ?? '';
    const [key = '', secret] = Buffer.from(basic, 'base64').toString().split(':');
    if (this.apps.get(key)?.consumerSecret !== secret) {
      return [400, error('400.008.01', 'Invalid Authentication passed')];
    }
    this.tokenRequests += 1;
    for (const [value, token] of this.tokens) if (token.app === key) this.tokens.delete(value);
    const value = randomBytes(21).toString('base64url');
    this.tokens.set(value, { app: key, expiresAt: Date.now() + this.tokenTtlSeconds * 1000 });
    return [200, { access_token: value, expires_in: String(this.tokenTtlSeconds - 1) }];
  }

  /** The app a live bearer token belongs to. */
  forBearer(authorization: string | undefined): RegisteredApp | undefined {
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
    const token = this.tokens.get(bearer);
    if (!token || Date.now() > token.expiresAt) return undefined;
    return this.apps.get(token.app);
  }

  invalidateAll(): void {
    this.tokens.clear();
  }
}
