export { authorizationCode, signIn } from './flows.ts';
export {
  AuthorizationStopped,
  accountFor,
  authorizeWith,
  openSignInPage,
  type PageObserver,
  type ResponseObserver,
  refreshSpa,
  signInSpa,
  signInThroughPages,
  startInteractionDriver,
  TEST_PASSWORD,
  type TokenResponse,
} from './interaction-driver.ts';
export { authorizationUrl, oauthClient, pkce } from './oauth-client.ts';
export { fetchTransport, nodeHttpTransport, type PageAnswer, type PageTransport } from './page-transport.ts';
export { authorize, ensureAccount, finishInteraction } from './user-agent.ts';
