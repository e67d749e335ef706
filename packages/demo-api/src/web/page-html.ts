/** What the demo page needs to know about where it runs, put on `<body>` as data attributes. */
export interface PageSettings {
  readonly issuer: string;
  readonly apiUrl: string;
  readonly clientId: string;
  /** Where the page's SDK keeps tokens (see {@link DemoTokenStorage}). */
  readonly tokenStorage: DemoTokenStorage;
}

/**
 * `hybrid`: refresh token in IndexedDB (shared by tabs), access token in each tab's memory (the
 * SDK's recommendation); `local`: both in IndexedDB (`browserStorage('local')`); `session`: both
 * in sessionStorage (one tab).
 */
export type DemoTokenStorage = 'hybrid' | 'local' | 'session';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/**
 * The demo page's HTML. Static markup; `assets/demo.js` fills it in. Settings travel as data
 * attributes because the CSP allows no inline script.
 *
 * @example
 * ```ts
 * ctx.body = demoPageHtml({ issuer: 'http://localhost:4000', apiUrl: 'http://localhost:4001', clientId: 'demo-spa' });
 * ```
 */
export function demoPageHtml(settings: PageSettings): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Recipes · Gatehouse demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/styles.css">
<script type="module" src="/assets/demo.js"></script>
</head>
<body data-issuer="${escapeHtml(settings.issuer)}" data-api-url="${escapeHtml(settings.apiUrl)}" data-client-id="${escapeHtml(settings.clientId)}" data-token-storage="${settings.tokenStorage}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true">◆</span> Recipes <span class="muted">· a Gatehouse demo</span></div>
  <div class="account">
    <span id="whoami" class="muted" aria-live="polite">Loading…</span>
    <button id="sign-in" type="button" hidden>Sign in</button>
    <button id="sign-out" type="button" class="secondary" hidden>Sign out</button>
  </div>
</header>
<main id="main">
  <p id="error" class="banner error" role="alert" hidden></p>

  <section id="welcome" class="card" aria-labelledby="welcome-title" hidden>
    <h1 id="welcome-title">Sign in to write recipes</h1>
    <p>This page signs in with <code>@gatehouse/client</code> (authorization code + PKCE), calls the recipes API
    with the access token, and renews it silently before it expires. Anyone can browse published recipes below.</p>
    <p><button id="sign-in-large" type="button">Sign in with Gatehouse</button></p>
  </section>

  <div class="columns">
    <section id="session" class="card" aria-labelledby="session-title" hidden>
      <h2 id="session-title">Your session</h2>
      <dl class="facts">
        <dt>Subject</dt><dd id="session-sub">…</dd>
        <dt>Email</dt><dd id="session-email">…</dd>
        <dt>Client</dt><dd id="session-client">…</dd>
        <dt>Scope</dt><dd id="session-scope">…</dd>
        <dt>Access token</dt><dd><span id="token-lifetime">…</span> <meter id="token-meter" min="0" max="1" value="0" aria-label="Access token lifetime left"></meter></dd>
      </dl>
    </section>
    <section id="activity" class="card" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <p class="muted small">Newest first. Each green line is a renewal the SDK did on its own.</p>
      <ol id="activity-log" class="log" aria-live="polite" aria-relevant="additions"></ol>
    </section>
  </div>


  <div class="columns">
    <section id="mine" class="card" aria-labelledby="mine-title" hidden>
      <h2 id="mine-title">My recipes</h2>
      <ul id="my-recipes" class="recipes"></ul>
      <p id="my-recipes-empty" class="muted" hidden>No recipes yet. Write the first one below.</p>

      <form id="recipe-form" class="recipe-form" novalidate>
        <h3 id="recipe-form-title">New recipe</h3>
        <input type="hidden" name="id">
        <div class="field"><label for="recipe-name">Name</label>
          <input id="recipe-name" name="name" required maxlength="100" autocomplete="off"></div>
        <div class="field"><label for="recipe-description">Description</label>
          <input id="recipe-description" name="description" maxlength="1000" autocomplete="off"></div>
        <div class="row">
          <div class="field"><label for="recipe-servings">Servings</label>
            <input id="recipe-servings" name="num_of_servings" type="number" min="1" max="100" inputmode="numeric"></div>
          <div class="field"><label for="recipe-cook-time">Cook time (minutes)</label>
            <input id="recipe-cook-time" name="cook_time" type="number" min="1" max="1440" inputmode="numeric"></div>
        </div>
        <div class="field"><label for="recipe-ingredients">Ingredients <span class="muted">(one per line)</span></label>
          <textarea id="recipe-ingredients" name="ingredients" rows="3"></textarea></div>
        <div class="field"><label for="recipe-directions">Directions</label>
          <textarea id="recipe-directions" name="directions" rows="3" maxlength="10000"></textarea></div>
        <div class="actions">
          <button type="submit" id="recipe-save">Create recipe</button>
          <button type="button" id="recipe-cancel" class="secondary" hidden>Cancel editing</button>
        </div>
      </form>
    </section>

    <section id="public" class="card" aria-labelledby="public-title">
      <h2 id="public-title">Published recipes</h2>
      <form id="search-form" class="search" role="search">
        <label for="search-q">Search</label>
        <input id="search-q" name="q" type="search" maxlength="100" autocomplete="off">
        <button type="submit" class="secondary">Search</button>
      </form>
      <ul id="public-recipes" class="recipes" aria-live="polite"></ul>
      <nav class="pager" aria-label="Published recipes pages">
        <button id="page-prev" type="button" class="secondary">Previous</button>
        <span id="page-status" class="muted"></span>
        <button id="page-next" type="button" class="secondary">Next</button>
      </nav>
    </section>
  </div>

</main>
</body>
</html>
`;
}
