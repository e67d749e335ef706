export {
  basicClientId,
  CLIENT_AUTH_FAILURES_PER_CLIENT,
  CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP,
  CLIENT_AUTH_FAILURES_PER_IP,
  type ClientAuthRequest,
  clientAuthThrottle,
} from './client-auth-throttle.ts';
export {
  createLoginThrottle,
  LOGIN_FAILURES_PER_ACCOUNT,
  LOGIN_FAILURES_PER_IP,
  type LoginThrottle,
  PASSWORD_RESETS_PER_EMAIL,
  PASSWORD_RESETS_PER_IP,
  REGISTRATIONS_PER_IP,
  VERIFICATION_RESENDS_PER_EMAIL,
  VERIFICATION_RESENDS_PER_IP,
} from './login-throttle.ts';
export {
  createRateLimiter,
  type RateLimit,
  type RateLimiter,
  type RateLimiterBackend,
  type RateLimitResult,
  rateLimitKey,
} from './rate-limiter.ts';
