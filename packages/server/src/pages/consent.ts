import type Router from '@koa/router';
import type { Context } from 'koa';
import { CSRF_FIELD } from '../security/csrf.ts';
import { type PageContext, respondCsrfFailure, respondWithPage } from './context.ts';
import { html, type SafeHtml } from './html.ts';
import {
  clientDisplayName,
  finishInteraction,
  type InteractionDetails,
  interactionPurpose,
  loadInteraction,
  redirectToInteraction,
} from './interaction.ts';
import { readForm } from './page-form.ts';

/** Scopes in words; an unknown scope is shown by name. */
const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: 'Know who you are when you sign in',
  profile: 'See your name',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay connected when you are not using it',
  'recipes:read': 'Read your recipes',
  'recipes:write': 'Create, change, publish and delete your recipes',
};

const CLAIM_DESCRIPTIONS: Readonly<Record<string, string>> = {
  email: 'Your email address',
  email_verified: 'Whether your email address is verified',
  name: 'Your name',
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** What the client asks for that is not yet granted, from `prompt.details` of a consent prompt. */
interface MissingConsent {
  readonly oidcScopes: string[];
  readonly oidcClaims: string[];
  readonly resourceScopes: [indicator: string, scopes: string[]][];
}

function missingConsent(details: InteractionDetails): MissingConsent {
  const prompt = details.prompt.details;
  const resources = prompt.missingResourceScopes;
  return {
    oidcScopes: strings(prompt.missingOIDCScope),
    oidcClaims: strings(prompt.missingOIDCClaims),
    resourceScopes:
      resources && typeof resources === 'object'
        ? Object.entries(resources as Record<string, unknown>).map(([indicator, scopes]) => [
            indicator,
            strings(scopes),
          ])
        : [],
  };
}

function describeScope(scope: string, resource?: string): string {
  const known = SCOPE_DESCRIPTIONS[scope];
  if (known) return known;
  if (resource === undefined) return `Use the permission “${scope}”`;
  let host = resource;
  try {
    host = new URL(resource).host;
  } catch {}
  return `Use the permission “${scope}” at ${host}`;
}

/**
 * The permissions asked for this time, when none is missing: oidc-provider asks again for consent
 * that the Grant already holds on `prompt=consent` and for native clients, and the page must still
 * say what the person allows. `openid` and each API scope once (API scopes are provider scopes too).
 */
function requestedPermissions(details: InteractionDetails): MissingConsent {
  const scope = details.params.scope;
  const scopes = typeof scope === 'string' ? [...new Set(scope.split(' ').filter(Boolean))] : [];
  return { oidcScopes: scopes, oidcClaims: [], resourceScopes: [] };
}

function permissionItems(missing: MissingConsent): SafeHtml[] {
  const items: SafeHtml[] = [];
  // An API's scopes are also configured as provider scopes (so clients may register them), so
  // oidc-provider lists them twice; show each once, with its API.
  const apiScopes = new Set(missing.resourceScopes.flatMap(([, scopes]) => scopes));
  for (const scope of missing.oidcScopes.filter((s) => !apiScopes.has(s))) {
    items.push(html`<li>${describeScope(scope)}</li>`);
  }
  const claims = missing.oidcClaims.filter((claim) => claim !== 'sub');
  for (const claim of claims) items.push(html`<li>${CLAIM_DESCRIPTIONS[claim] ?? `Your “${claim}”`}</li>`);
  for (const [resource, scopes] of missing.resourceScopes) {
    for (const scope of scopes) items.push(html`<li>${describeScope(scope, resource)}</li>`);
  }
  return items;
}

export async function showConsent(
  ctx: Context,
  deps: PageContext,
  details: InteractionDetails,
): Promise<void> {
  const uid = details.uid;
  const clientName = await clientDisplayName(deps, details.params.client_id);
  const accountId = details.session?.accountId;
  const account = accountId ? await deps.accounts.findById(accountId) : undefined;
  const missing = permissionItems(missingConsent(details));
  const asksAgain = missing.length === 0;
  const items = asksAgain ? permissionItems(requestedPermissions(details)) : missing;
  // A grant that exists already holds what this client was allowed before: the list is what it adds.
  const more = !asksAgain && details.grantId !== undefined;
  const body = html`<p class="lead"><span class="client">${clientName}</span> would ${more ? 'also ' : ''}like to:</p>
${items.length > 0 ? html`<ul class="scopes">${items}</ul>` : ''}
${asksAgain ? html`<p>You allowed this before; ${clientName} asks you to confirm it.</p>` : ''}
${account ? html`<p>Signed in as <strong>${account.email}</strong>.</p>` : ''}
<form method="post" action="/interaction/${uid}/confirm">
${deps.csrf.field(ctx, interactionPurpose(uid))}
<div class="actions">
<button type="submit" class="secondary" formaction="/interaction/${uid}/abort">Deny</button>
<button type="submit">Allow</button>
</div>
</form>`;
  respondWithPage(ctx, 200, { title: `Allow ${clientName}?`, body });
}

/**
 * POST /interaction/:uid/confirm: adds what the client asked for to the Grant (a new one, or
 * the existing one of this client and account), so the next sign-in with the same scopes
 * asks no more. The grant id joins the account's grant index for `users revoke`.
 */
async function submitConsent(ctx: Context, deps: PageContext): Promise<void> {
  const form = await readForm(ctx);
  const uid = String(ctx.params.uid);
  if (!deps.csrf.verify(ctx, interactionPurpose(uid), form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const details = await loadInteraction(ctx, deps);
  if (!details) return;
  if (details.prompt.name === 'login') return redirectToInteraction(ctx, uid);
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (details.prompt.name !== 'consent' || !accountId || typeof clientId !== 'string') {
    return respondWithPage(ctx, 400, {
      title: 'Something is missing',
      error: 'This request cannot be confirmed. Go back to the application and start again.',
      body: html``,
    });
  }
  const provider = deps.provider();
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const missing = missingConsent(details);
  if (missing.oidcScopes.length > 0) grant.addOIDCScope(missing.oidcScopes.join(' '));
  if (missing.oidcClaims.length > 0) grant.addOIDCClaims(missing.oidcClaims);
  for (const [indicator, scopes] of missing.resourceScopes)
    grant.addResourceScope(indicator, scopes.join(' '));
  const saved = grant.save();
  // oidc-provider gives a new Grant its id as save() starts; with the id in hand, the grant,
  // its entry in the account's index and the interaction result are sent in one tick (one
  // pipelined round trip), and Redis applies them in that order.
  const grantId = grant.jti;
  if (!grantId) {
    const id = await saved;
    await deps.accounts.addGrant(accountId, id, clientId);
    return finishInteraction(ctx, details, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
  }
  await Promise.all([
    saved,
    deps.accounts.addGrant(accountId, grantId, clientId),
    finishInteraction(ctx, details, { consent: { grantId } }, { mergeWithLastSubmission: true }),
  ]);
}

/** POST /interaction/:uid/abort: "Deny" on consent, "Cancel" on sign-in. */
async function submitAbort(ctx: Context, deps: PageContext): Promise<void> {
  const form = await readForm(ctx);
  const uid = String(ctx.params.uid);
  if (!deps.csrf.verify(ctx, interactionPurpose(uid), form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const details = await loadInteraction(ctx, deps);
  if (!details) return;
  // RFC 6749 §4.1.2.1: access_denied — the resource owner denied the request.
  await finishInteraction(
    ctx,
    details,
    { error: 'access_denied', error_description: 'End-User denied the request' },
    { mergeWithLastSubmission: false },
  );
}

export function consentRoutes(router: Router, deps: PageContext): void {
  router.post('/interaction/:uid/confirm', function postConsent(ctx) {
    return submitConsent(ctx, deps);
  });
  router.post('/interaction/:uid/abort', function postAbort(ctx) {
    return submitAbort(ctx, deps);
  });
}
