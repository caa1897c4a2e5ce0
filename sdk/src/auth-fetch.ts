export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface AuthOptions {
  baseUrl: string;
  fetch: typeof fetch;
  /** The current access token (a fixed one, or a getter for tokens kept elsewhere). */
  getToken: () => string | undefined | Promise<string | undefined>;
  /** The current refresh token; when given, an expired access token is refreshed once and the request retried. */
  getRefreshToken?: () => string | undefined | Promise<string | undefined>;
  /** Called with every new token pair (store them: the old refresh token is spent). */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
}

/**
 * A fetch that adds the bearer token and, on `401 TOKEN_EXPIRED`, refreshes the pair once
 * (shared by concurrent requests) and retries the request with the new token.
 */
export function createAuthFetch(options: AuthOptions): (request: Request) => Promise<Response> {
  let refreshing: Promise<string | undefined> | undefined;

  const refresh = async (): Promise<string | undefined> => {
    const refreshToken = await options.getRefreshToken?.();
    if (!refreshToken) return undefined;
    const response = await options.fetch(new URL('/auth/refresh', options.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    });
    if (!response.ok) return undefined;
    const tokens = (await response.json()) as Tokens;
    await options.onTokens?.(tokens);
    return tokens.accessToken;
  };

  const withToken = (request: Request, token: string | undefined) => {
    if (token && !request.headers.has('authorization'))
      request.headers.set('authorization', `Bearer ${token}`);
    return request;
  };

  return async (request) => {
    const retry = request.clone();
    const response = await options.fetch(withToken(request, await options.getToken()));
    if (response.status !== 401 || !options.getRefreshToken) return response;
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { code?: string } | undefined;
    if (body?.code !== 'TOKEN_EXPIRED') return response;
    refreshing ??= refresh().finally(() => {
      refreshing = undefined;
    });
    const token = await refreshing;
    if (!token) return response;
    retry.headers.set('authorization', `Bearer ${token}`);
    return options.fetch(retry);
  };
}
