import type { Context } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';
import { allowFormAction } from '../security/security-headers.ts';
import { epochSeconds } from '../store/adapter-options.ts';
import { type PageContext, respondWithPage } from './context.ts';
import { html } from './html.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** CSRF tokens of interaction forms are bound to the interaction. */
export function interactionPurpose(uid: string): string {
  return `interaction:${uid}`;
}

export function respondInteractionExpired(ctx: Context): void {
  respondWithPage(ctx, 400, {
    title: 'This sign-in has expired',
    error: 'The sign-in request is no longer valid: it took too long, or it was already completed.',
    body: html`<p class="lead">Go back to the application and start signing in again.</p>`,
  });
}

/**
 * The interaction this request belongs to (found through oidc-provider's path-scoped
 * interaction cookie), or `undefined` after answering with the "expired" page. Also lets the
 * page's forms end at the client's redirect_uri (validated by the provider when the
 * interaction began), see {@link allowFormAction}.
 */
export async function loadInteraction(
  ctx: Context,
  deps: PageContext,
): Promise<InteractionDetails | undefined> {
  let details: InteractionDetails;
  try {
    details = await deps.provider().interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      respondInteractionExpired(ctx);
      return undefined;
    }
    throw err;
  }
  if (details.uid !== ctx.params.uid) {
    respondInteractionExpired(ctx);
    return undefined;
  }
  const redirectUri = details.params.redirect_uri;
  if (typeof redirectUri === 'string') allowFormAction(ctx, redirectUri);
  return details;
}

/** The name a person knows the client by. */
export async function clientDisplayName(deps: PageContext, clientId: unknown): Promise<string> {
  if (typeof clientId !== 'string') return 'the application';
  const client = await deps.provider().Client.find(clientId);
  return client?.clientName ?? clientId;
}

/** 303 to the interaction's page (after a POST for a step another tab already finished). */
export function redirectToInteraction(ctx: Context, uid: string): void {
  ctx.redirect(`/interaction/${encodeURIComponent(uid)}`);
  ctx.status = 303;
}

/**
 * Records `result` as the outcome of the interaction and sends the browser back to the
 * authorization endpoint (303): oidc-provider's `interactionFinished`, but on the Interaction
 * this request already loaded with {@link loadInteraction}, which `interactionFinished` would
 * load again (with its session: three Redis reads on the consent page). The save is the
 * provider's own (`interactionResult`): the result replaces the last submission, or is merged
 * over it, and the interaction keeps its expiry.
 *
 * @example
 * await finishInteraction(ctx, details, { consent: { grantId } }, { mergeWithLastSubmission: true });
 */
export async function finishInteraction(
  ctx: Context,
  details: InteractionDetails,
  result: InteractionResults,
  options: { readonly mergeWithLastSubmission: boolean },
): Promise<void> {
  details.result =
    options.mergeWithLastSubmission && !('error' in result)
      ? { ...details.lastSubmission, ...result }
      : result;
  await details.save(details.exp - epochSeconds());
  ctx.redirect(details.returnTo);
  ctx.status = 303;
}
