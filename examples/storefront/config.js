// The storefront's settings: the only file to edit when you deploy the site.
//
// `make run` does not serve this file: it answers /config.js itself (devstack/storefront.py) with the
// local stack's API URL and localstripe's Stripe.js stand-in.
export default {
  // The API's base URL, without a trailing slash (API Gateway: https://<id>.execute-api.<region>.amazonaws.com/api).
  // The API must list this site's origin in CORS_ALLOW_ORIGIN.
  apiBaseUrl: "http://127.0.0.1:8000",
  // Stripe.js. Keep Stripe's own URL in production; the publishable key comes from the checkout answer.
  stripeJsUrl: "https://js.stripe.com/v3/",
  // Customer sign-in (optional: without it the shop is guest-only). The stack's outputs `StorefrontClientId` and
  // its region; `endpoint` is Cognito's cognito-idp API (empty: https://cognito-idp.<region>.amazonaws.com/).
  // The demo signs in with InitiateAuth USER_PASSWORD_AUTH; infra/deploy.yaml's client allows SRP only, so a
  // production site signs in with the Amplify / Cognito SDK (SRP) or the hosted UI and keeps the rest.
  cognito: { region: "eu-west-1", clientId: "", endpoint: "" },
};
