/** The signed-in operator: token (sessionStorage), `Me` from `GET /api/me`, and the REST client. */
import { shallowReactive } from 'vue';
import { Api, HttpError } from '../lib/api';
import type { Me } from '../lib/contracts';

const KEY = 'hark.token';

export interface Session {
  token: string | null;
  me: Me | null;
  api: Api | null;
  checking: boolean;
  error: string | null;
}

export function createSession(
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined,
  makeApi = (token: string) => new Api(token),
) {
  const state = shallowReactive<Session>({ token: null, me: null, api: null, checking: false, error: null });

  /** Checks a token with `GET /api/me`; keeps it for the session when it is good. */
  async function signIn(token: string): Promise<boolean> {
    const trimmed = token.trim();
    if (!trimmed) {
      state.error = 'Enter a token.';
      return false;
    }
    state.checking = true;
    state.error = null;
    const api = makeApi(trimmed);
    try {
      const me = await api.me();
      if (me.role === 'sensor')
        throw new HttpError(403, 'This is a sensor token: sign in with an operator or admin token.');
      Object.assign(state, { token: trimmed, me, api });
      storage?.setItem(KEY, trimmed);
      return true;
    } catch (e) {
      state.error =
        e instanceof HttpError && e.status === 401
          ? 'The server does not know this token (or it was revoked).'
          : (e as Error).message;
      return false;
    } finally {
      state.checking = false;
    }
  }

  function signOut(): void {
    Object.assign(state, { token: null, me: null, api: null, error: null });
    storage?.removeItem(KEY);
  }

  /** The token kept from earlier in this browser session, if any. */
  function storedToken(): string | null {
    return storage?.getItem(KEY) ?? null;
  }

  return { state, signIn, signOut, storedToken };
}

export const session = createSession(typeof sessionStorage === 'undefined' ? undefined : sessionStorage);
