// A small React app on @gatehouse/react, as a team would write it: the whole page behind <RequireAuth>, the
// user's name from useAuth(), and an API call with the token from useAccessToken(). The test renders it on
// the server (renderToString) and the browser hydrates that markup in <StrictMode> (main.tsx).
import type { GatehouseClient } from '@gatehouse/client';
import { GatehouseProvider, RequireAuth, useAccessToken, useAuth } from '@gatehouse/react';
import { StrictMode, useEffect, useState } from 'react';

/** The page, with its client: what the server renders and what the browser hydrates. */
export function Root({ client, apiUrl }: { client: GatehouseClient; apiUrl: string }) {
  return (
    <StrictMode>
      <GatehouseProvider client={client}>
        <main>
          <h1>Recipes</h1>
          <RequireAuth fallback={<p id="fallback">Checking your session…</p>}>
            <Profile apiUrl={apiUrl} />
          </RequireAuth>
        </main>
      </GatehouseProvider>
    </StrictMode>
  );
}

function Profile({ apiUrl }: { apiUrl: string }) {
  const { user, signOut } = useAuth();
  const { accessToken, error } = useAccessToken();
  const [me, setMe] = useState<string>();
  useEffect(() => {
    if (!accessToken) return;
    let current = true;
    fetch(`${apiUrl}/me`, { headers: { authorization: `Bearer ${accessToken}` } })
      .then((response) => response.json() as Promise<{ sub: string; client_id: string; scope: string }>)
      .then((body) => current && setMe(`${body.client_id} may ${body.scope}`));
    return () => {
      current = false;
    };
  }, [accessToken, apiUrl]);
  return (
    <section>
      <p id="user">Signed in as {user?.name}</p>
      <p id="api">{me ?? 'calling the API…'}</p>
      {error && <p role="alert">{error.code}</p>}
      <button type="button" onClick={() => signOut()}>
        Sign out
      </button>
    </section>
  );
}
