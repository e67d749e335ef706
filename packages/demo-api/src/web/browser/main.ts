// The demo page: signs in with @gatehouse/client (code + PKCE), calls the recipes API with the
// access token and shows the SDK renewing it. No framework: the markup is static (page-html.ts)
// and this script fills it in.
import {
  browserStorage,
  createGatehouseClient,
  hybridStorage,
  InteractionRequiredError,
  SessionExpiredError,
  type TokenSet,
} from '@gatehouse/client';
import { ActivityLog } from './activity-log.ts';
import { fillRecipeForm, type RecipeActions, readRecipeForm, recipeItem } from './recipe-views.ts';
import { describeError, type Recipe, recipesApi } from './recipes-api.ts';
import { TokenLifetime } from './token-lifetime.ts';

const PUBLIC_PAGE_SIZE = 5;

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`the page has no #${id}`);
  return node;
}

const settings = document.body.dataset;
const issuer = settings.issuer ?? '';
const apiUrl = settings.apiUrl ?? location.origin;
// Default: the refresh token survives reloads and is shared by tabs; the access token stays in memory.
const storage =
  settings.tokenStorage === 'local' || settings.tokenStorage === 'session'
    ? browserStorage(settings.tokenStorage)
    : hybridStorage();

const auth = createGatehouseClient({
  issuer,
  clientId: settings.clientId ?? 'demo-spa',
  redirectUri: `${location.origin}/callback`,
  postLogoutRedirectUri: `${location.origin}/`,
  scope: 'openid profile email recipes:read recipes:write',
  resource: apiUrl,
  storage,
  apiOrigins: [apiUrl],
  // RFC 9449: tokens bound to a key this page keeps in IndexedDB, useless to anyone who copies them.
  dpop: true,
});
const api = recipesApi(auth.http, apiUrl);

const ui = {
  whoami: byId('whoami', HTMLElement),
  signIn: byId('sign-in', HTMLButtonElement),
  signInLarge: byId('sign-in-large', HTMLButtonElement),
  signOut: byId('sign-out', HTMLButtonElement),
  error: byId('error', HTMLElement),
  welcome: byId('welcome', HTMLElement),
  session: byId('session', HTMLElement),
  sub: byId('session-sub', HTMLElement),
  email: byId('session-email', HTMLElement),
  client: byId('session-client', HTMLElement),
  scope: byId('session-scope', HTMLElement),
  mine: byId('mine', HTMLElement),
  myRecipes: byId('my-recipes', HTMLUListElement),
  myRecipesEmpty: byId('my-recipes-empty', HTMLElement),
  form: byId('recipe-form', HTMLFormElement),
  formTitle: byId('recipe-form-title', HTMLElement),
  save: byId('recipe-save', HTMLButtonElement),
  cancel: byId('recipe-cancel', HTMLButtonElement),
  search: byId('search-form', HTMLFormElement),
  publicRecipes: byId('public-recipes', HTMLUListElement),
  prev: byId('page-prev', HTMLButtonElement),
  next: byId('page-next', HTMLButtonElement),
  pageStatus: byId('page-status', HTMLElement),
};
const log = new ActivityLog(byId('activity-log', HTMLOListElement));
const lifetime = new TokenLifetime(
  byId('token-lifetime', HTMLElement),
  byId('token-meter', HTMLMeterElement),
);

let tokens: TokenSet | undefined;
let browse = { q: '', page: 1, pages: 1 };

function showError(message: string | undefined): void {
  ui.error.hidden = message === undefined;
  ui.error.textContent = message ?? '';
}

/** Runs a user action; failures end up in the banner and the log instead of the console. */
async function attempt(what: string, action: () => Promise<void>): Promise<void> {
  try {
    showError(undefined);
    await action();
  } catch (error) {
    if (error instanceof SessionExpiredError || error instanceof InteractionRequiredError) {
      showSignedOut();
      showError('Your session has ended. Sign in again to continue.');
      return;
    }
    const message = `${what} failed: ${describeError(error)}`;
    showError(message);
    log.add(message, 'error');
  }
}

/** ID token claims, for display only (the SDK checked iss, aud and nonce; the API trusts the access token). */
function idTokenClaims(idToken: string | undefined): Record<string, unknown> {
  const payload = idToken?.split('.')[1];
  if (!payload) return {};
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

function showSignedOut(): void {
  tokens = undefined;
  lifetime.track(undefined);
  ui.whoami.textContent = 'Not signed in';
  ui.signIn.hidden = false;
  ui.signOut.hidden = true;
  ui.welcome.hidden = false;
  ui.session.hidden = true;
  ui.mine.hidden = true;
}

async function showSignedIn(): Promise<void> {
  ui.signIn.hidden = true;
  ui.signOut.hidden = false;
  ui.welcome.hidden = true;
  ui.session.hidden = false;
  ui.mine.hidden = false;
  const me = await api.me();
  const claims = idTokenClaims(tokens?.idToken);
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  ui.whoami.textContent = `Signed in as ${email ?? me.sub}`;
  ui.sub.textContent = me.sub;
  ui.email.textContent = email ?? '(not shared)';
  ui.client.textContent = me.client_id;
  ui.scope.textContent = me.scope;
  await loadMyRecipes();
}

const ownerActions: RecipeActions = {
  edit(recipe) {
    fillRecipeForm(ui.form, recipe);
    ui.formTitle.textContent = `Edit “${recipe.name}”`;
    ui.save.textContent = 'Save changes';
    ui.cancel.hidden = false;
    byId('recipe-name', HTMLInputElement).focus();
  },
  setPublished(recipe, published) {
    void attempt(published ? 'Publishing' : 'Unpublishing', async () => {
      await api.setPublished(recipe.id, published);
      log.add(`${published ? 'Published' : 'Unpublished'} “${recipe.name}”`);
      await Promise.all([loadMyRecipes(), loadPublished()]);
    });
  },
  remove(recipe) {
    void attempt('Deleting', async () => {
      await api.remove(recipe.id);
      log.add(`Deleted “${recipe.name}”`);
      await Promise.all([loadMyRecipes(), loadPublished()]);
    });
  },
};

async function loadMyRecipes(): Promise<void> {
  const { data } = await api.myRecipes();
  ui.myRecipes.replaceChildren(...data.map((recipe: Recipe) => recipeItem(recipe, ownerActions)));
  ui.myRecipesEmpty.hidden = data.length > 0;
}

async function loadPublished(): Promise<void> {
  const result = await api.published({ q: browse.q, page: browse.page, perPage: PUBLIC_PAGE_SIZE });
  browse = { ...browse, pages: Math.max(1, Math.ceil(result.total / PUBLIC_PAGE_SIZE)) };
  ui.publicRecipes.replaceChildren(...result.data.map((recipe) => recipeItem(recipe)));
  if (result.data.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'muted';
    empty.textContent = browse.q ? `Nothing matches “${browse.q}”.` : 'Nothing published yet.';
    ui.publicRecipes.append(empty);
  }
  ui.pageStatus.textContent = `Page ${browse.page} of ${browse.pages} · ${result.total} recipes`;
  ui.prev.disabled = browse.page <= 1;
  ui.next.disabled = browse.page >= browse.pages;
}

function resetForm(): void {
  fillRecipeForm(ui.form, undefined);
  ui.formTitle.textContent = 'New recipe';
  ui.save.textContent = 'Create recipe';
  ui.cancel.hidden = true;
}

auth.on('tokensChanged', (next) => {
  const previous = tokens;
  tokens = next;
  lifetime.track(next?.expiresAt);
  if (!next) return;
  // Any new access token that replaces one we had (even an empty one after a reload) came from a refresh.
  if (previous && previous.accessToken !== next.accessToken) {
    const seconds =
      next.expiresAt === undefined ? undefined : Math.round((next.expiresAt - Date.now()) / 1000);
    log.add(
      `Access token renewed silently${seconds === undefined ? '' : ` (valid for ${seconds} s)`}`,
      'refresh',
    );
  }
});
auth.on('refreshFailed', (error) => log.add(`Renewal failed, will retry: ${error.message}`, 'error'));
auth.on('sessionExpired', () => {
  log.add('The session expired; sign in again', 'error');
  showSignedOut();
});
auth.on('signedOut', () => {
  log.add('Signed out');
  showSignedOut();
});

const signIn = () => void attempt('Sign-in', () => auth.signInRedirect({ returnTo: '/' }));
ui.signIn.addEventListener('click', signIn);
ui.signInLarge.addEventListener('click', signIn);
ui.signOut.addEventListener('click', () => {
  void attempt('Sign-out', async () => {
    ui.signOut.disabled = true;
    log.add('Signing out: revoking the refresh token');
    await auth.signOut();
  });
});
ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void attempt('Saving', async () => {
    const input = readRecipeForm(ui.form);
    if (!input.name) throw new Error('a recipe needs a name');
    const id = new FormData(ui.form).get('id');
    const saved = typeof id === 'string' && id !== '' ? await api.update(id, input) : await api.create(input);
    log.add(`${id ? 'Saved' : 'Created'} “${saved.name}”`);
    resetForm();
    await Promise.all([loadMyRecipes(), loadPublished()]);
  });
});
ui.cancel.addEventListener('click', resetForm);
ui.search.addEventListener('submit', (event) => {
  event.preventDefault();
  const q = new FormData(ui.search).get('q');
  browse = { q: typeof q === 'string' ? q.trim() : '', page: 1, pages: 1 };
  void attempt('Searching', loadPublished);
});
ui.prev.addEventListener('click', () => {
  browse.page = Math.max(1, browse.page - 1);
  void attempt('Loading', loadPublished);
});
ui.next.addEventListener('click', () => {
  browse.page = Math.min(browse.pages, browse.page + 1);
  void attempt('Loading', loadPublished);
});

async function start(): Promise<void> {
  if (location.pathname === '/callback') {
    const params = new URLSearchParams(location.search);
    try {
      if (params.has('error')) {
        showError(`Sign-in did not complete: ${params.get('error_description') ?? params.get('error')}`);
      } else {
        const { returnTo } = await auth.handleRedirectCallback();
        log.add('Signed in (authorization code + PKCE)');
        history.replaceState(null, '', returnTo ?? '/');
      }
    } finally {
      // A used or failed callback URL must not stay in the address bar (or be reloaded).
      if (location.pathname === '/callback') history.replaceState(null, '', '/');
    }
  }
  tokens = await auth.getTokens();
  if (tokens) {
    lifetime.track(tokens.expiresAt);
    await showSignedIn();
  } else showSignedOut();
}

void attempt('Starting', start).finally(() => {
  void attempt('Loading', loadPublished);
  document.body.dataset.ready = 'true';
});
