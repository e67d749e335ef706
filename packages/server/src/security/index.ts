export { type AdmitWhenFreeOptions, admitWhenFree } from './admit-when-free.ts';
export {
  basicClientId,
  CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP,
  CLIENT_AUTH_FAILURES_PER_IP,
  type ClientAuthRequest,
  type ClientAuthThrottleOptions,
  clientAuthThrottle,
} from './client-auth-throttle.ts';
export {
  createLoginThrottle,
  LOGIN_FAILURES_PER_ACCOUNT,
  LOGIN_FAILURES_PER_IP,
  type LoginAttempt,
  type LoginScope,
  type LoginThrottle,
  PASSWORD_RESETS_PER_EMAIL,
  PASSWORD_RESETS_PER_IP,
  REGISTRATIONS_PER_IP,
  type RefusedLogin,
  VERIFICATION_RESENDS_PER_EMAIL,
  VERIFICATION_RESENDS_PER_IP,
} from './login-throttle.ts';
export {
  type Admission,
  type AdmittedAttempt,
  type AttemptCheck,
  createRateLimiter,
  IN_FLIGHT_SECONDS,
  type Lockout,
  type RateLimit,
  type RateLimiter,
  type RateLimitResult,
  type RefusedAttempt,
} from './rate-limiter.ts';
