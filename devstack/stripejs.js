/*
 * Appended by devstack/stripejs.py to localstripe's Stripe.js stand-in (localstripe-v3.js), in the
 * same script: `Element`, `openModal` and `LOCALSTRIPE_BASE_API` are that file's.
 *
 * - confirmCardPayment(clientSecret, {payment_method: {card: element, billing_details}}) does what
 *   Stripe.js does: confirms the PaymentIntent with the card (authenticated by the publishable key
 *   and the client secret), runs 3-D Secure only when the PaymentIntent asks for it (test card
 *   4000 0027 6000 3184), and answers {paymentIntent} or {error: {type, code, message,
 *   payment_intent}}. localstripe's own version ignores the card, always shows the 3-D Secure box
 *   and only works for a PaymentIntent that was already confirmed server-side.
 * - The card inputs get accessible labels and sensible placeholders; the card number accepts
 *   spaces ("4242 4242 4242 4242"); the expiry year takes YY or YYYY.
 *
 * Requests are "simple" (text/plain JSON body, no custom header), as in localstripe-v3.js: no CORS
 * preflight, which localstripe does not answer.
 */
(function () {
  const FIELDS = {
    number: {label: 'Card number', placeholder: '4242 4242 4242 4242', autocomplete: 'cc-number', size: 19},
    exp_month: {label: 'Expiry month (MM)', placeholder: 'MM', autocomplete: 'cc-exp-month', size: 2},
    exp_year: {label: 'Expiry year (YY)', placeholder: 'YY', autocomplete: 'cc-exp-year', size: 4},
    cvc: {label: 'CVC', placeholder: 'CVC', autocomplete: 'cc-csc', size: 4},
    postal_code: {label: 'Postal code', placeholder: 'Postal code', autocomplete: 'postal-code', size: 8},
  };

  const mount = Element.prototype.mount;
  Element.prototype.mount = function (domElement) {
    mount.call(this, domElement);
    Object.entries(this._inputs || {}).forEach(([field, input]) => {
      const spec = FIELDS[field];
      if (!spec) return;
      input.setAttribute('aria-label', spec.label);
      input.setAttribute('placeholder', spec.placeholder);
      input.setAttribute('autocomplete', spec.autocomplete);
      input.setAttribute('size', String(spec.size));
      if (field !== 'postal_code') input.setAttribute('inputmode', 'numeric');
      const changed = input.oninput;
      input.oninput = (event) => {
        // localstripe jumps to the next field after 16 characters: count digits, not spaces.
        if (field === 'number') input.value = input.value.replace(/\D/g, '');
        changed(event);
      };
    });
  };

  function cardFromElement(element) {
    const inputs = element._inputs;
    if (!inputs) return null;
    const year = inputs.exp_year.value.trim();
    return {
      card: {
        number: inputs.number.value.replace(/\D/g, ''),
        exp_month: inputs.exp_month.value.trim(),
        exp_year: year.length === 2 ? '20' + year : year,
        cvc: inputs.cvc.value.trim(),
      },
      postal_code: inputs.postal_code.value.trim(),
    };
  }

  async function post(path, body) {
    try {
      const response = await fetch(LOCALSTRIPE_BASE_API + path, {method: 'POST', body: JSON.stringify(body)});
      const json = await response.json().catch(() => ({}));
      return {ok: response.ok && !json.error, status: response.status, json};
    } catch (err) {
      return {ok: false, status: 0, json: {error: {type: 'api_connection_error', message: String(err)}}};
    }
  }

  function failure(answer, intent) {
    const error = Object.assign({}, answer.json.error || {});
    if (answer.status === 402) error.type = 'card_error';
    error.type = error.type || 'api_error';
    error.message = error.message || `localstripe answered ${answer.status}`;
    if (intent) error.payment_intent = intent;
    return {error};
  }

  function outcome(intent) {
    if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
      return {error: Object.assign({type: 'card_error', payment_intent: intent}, intent.last_payment_error)};
    }
    return {paymentIntent: intent};
  }

  const original = Stripe;
  Stripe = function (apiKey, options) {
    const stripe = original(apiKey, options);

    stripe.confirmCardPayment = async (clientSecret, data, options) => {
      console.log('localstripe (devstack): Stripe().confirmCardPayment()');
      const match = /^(pi_\w+)_secret_/.exec(clientSecret || '');
      if (!match) {
        return {error: {type: 'invalid_request_error', message: 'Invalid value for confirmCardPayment: client_secret.'}};
      }
      const path = `/v1/payment_intents/${match[1]}`;
      const body = {key: apiKey, client_secret: clientSecret};
      const method = (data || {}).payment_method;
      if (typeof method === 'string') {
        body.payment_method = method;
      } else if (method && method.card instanceof Element) {
        const value = cardFromElement(method.card);
        if (!value || value.card.number.length !== 16) {
          return {error: {type: 'validation_error', code: 'incomplete_number',
                          message: 'Your card number is incomplete.'}};
        }
        const billing = Object.assign({}, method.billing_details || {});
        billing.address = Object.assign({}, billing.address || {});
        if (value.postal_code && !billing.address.postal_code) billing.address.postal_code = value.postal_code;
        body.payment_method_data = {type: 'card', card: value.card, billing_details: billing};
      } else if (method) {
        return {error: {type: 'invalid_request_error',
                        message: 'The stand-in supports payment_method: {card: element} or a pm_ id.'}};
      }

      let answer = await post(`${path}/confirm`, body);
      if (!answer.ok) return failure(answer);
      let intent = answer.json;
      if (intent.status === 'requires_action' && !(options && options.handleActions === false)) {
        const success = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                        'Complete authentication', 'Fail authentication');
        answer = await post(`${path}/_authenticate?success=${success}`, {key: apiKey, client_secret: clientSecret});
        if (!answer.ok) return failure(answer, intent);
        intent = answer.json;
      }
      return outcome(intent);
    };

    return stripe;
  };
})();
