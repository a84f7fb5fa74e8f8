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
};
