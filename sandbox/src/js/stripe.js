// Billhook's offline stand-in for Stripe.js (v3): the subset Billhook's pages call, with
// Stripe.js's own signatures - Stripe(pk), stripe.elements({clientSecret}),
// elements.create('payment'), element.mount(), elements.submit(), stripe.confirmPayment,
// stripe.confirmSetup, stripe.handleNextAction - talking to the sandbox's API with the
// publishable key and the intent's client secret, as Stripe.js talks to Stripe.
(function () {
  "use strict";
  const script = document.currentScript;
  const base = script ? script.src.replace(/\/js\/v3.*$/, "") : "/sandbox/stripe";

  const TEXT = {
    numberIncomplete: "Your card number is incomplete.",
    numberInvalid: "Your card number is invalid.",
    expiryIncomplete: "Your card's expiration date is incomplete.",
    expiryPast: "Your card's expiration year is in the past.",
    cvcIncomplete: "Your card's security code is incomplete.",
  };

  function luhn(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function form(params) {
    return Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v))
      .join("&");
  }

  class PaymentElement {
    constructor() { this.root = null; this.fields = {}; this.errors = {}; }

    mount(target) {
      const root = typeof target === "string" ? document.querySelector(target) : target;
      if (!root) throw new Error("Stripe sandbox: nothing to mount the Payment Element on (" + target + ").");
      this.root = root;
      root.classList.add("sandbox-payment-element");
      root.innerHTML =
        '<label>Card number<input name="cardnumber" inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234"></label>' +
        '<p class="sandbox-field-error" data-for="number" role="alert"></p>' +
        '<div class="sandbox-row"><label>Expiration date<input name="exp-date" inputmode="numeric" autocomplete="cc-exp" placeholder="MM / YY"></label>' +
        '<label>Security code<input name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC"></label></div>' +
        '<p class="sandbox-field-error" data-for="expiry" role="alert"></p><p class="sandbox-field-error" data-for="cvc" role="alert"></p>';
      this.fields = {
        number: root.querySelector('input[name="cardnumber"]'),
        expiry: root.querySelector('input[name="exp-date"]'),
        cvc: root.querySelector('input[name="cvc"]'),
      };
      this.fields.number.addEventListener("input", () => {
        const digits = this.fields.number.value.replace(/\D/g, "").slice(0, 19);
        this.fields.number.value = digits.replace(/(.{4})/g, "$1 ").trim();
      });
      this.fields.expiry.addEventListener("input", () => {
        const digits = this.fields.expiry.value.replace(/\D/g, "").slice(0, 4);
        this.fields.expiry.value = digits.length > 2 ? digits.slice(0, 2) + " / " + digits.slice(2) : digits;
      });
      for (const [name, input] of Object.entries(this.fields)) {
        input.addEventListener("blur", () => this.validate(name));
      }
    }

    card() {
      const number = this.fields.number.value.replace(/\D/g, "");
      const [month, year] = this.fields.expiry.value.replace(/\s/g, "").split("/");
      return { number, month: Number(month), year: Number(year), cvc: this.fields.cvc.value.replace(/\D/g, "") };
    }

    /** Stripe's inline messages; returns the first error, if any. */
    validate(only) {
      if (!this.root) return { message: "The Payment Element is not mounted." };
      const card = this.card();
      const now = new Date();
      const checks = {
        number: card.number.length < 13 ? TEXT.numberIncomplete : !luhn(card.number) ? TEXT.numberInvalid : "",
        expiry: !card.month || !card.year || card.month > 12 ? TEXT.expiryIncomplete
          : (2000 + card.year) * 12 + card.month < now.getFullYear() * 12 + now.getMonth() + 1 ? TEXT.expiryPast : "",
        cvc: card.cvc.length < 3 ? TEXT.cvcIncomplete : "",
      };
      let first = null;
      for (const [name, message] of Object.entries(checks)) {
        if (only && name !== only) continue;
        this.root.querySelector('[data-for="' + name + '"]').textContent = message;
        if (message && !first) first = { type: "validation_error", code: "incomplete_" + name, message };
      }
      return first;
    }
  }

  class Elements {
    constructor(stripe, options) { this.stripe = stripe; this.options = options || {}; this.element = null; }
    create(type) {
      if (type !== "payment") throw new Error("Stripe sandbox: only the 'payment' element is offered.");
      this.element = new PaymentElement();
      return this.element;
    }
    getElement(type) { return type === "payment" ? this.element : null; }
    async submit() {
      const error = this.element ? this.element.validate() : { message: "Create and mount the Payment Element first." };
      return error ? { error } : {};
    }
  }

  class StripeSandbox {
    constructor(key) {
      if (typeof key !== "string" || !key.startsWith("pk_")) {
        throw new Error("Stripe sandbox: Stripe() takes a publishable key (pk_...).");
      }
      this.key = key;
    }

    elements(options) { return new Elements(this, options); }

    async api(method, path, params) {
      const response = await fetch(base + path + (method === "GET" && params ? "?" + form(params) : ""), {
        method,
        headers: { Authorization: "Bearer " + this.key, "Content-Type": "application/x-www-form-urlencoded" },
        body: method === "POST" ? form(params || {}) : undefined,
      });
      const body = await response.json();
      return response.ok ? { object: body } : { error: body.error };
    }

    confirmPayment(options) { return this.confirm("payment_intents", "payment_intent", options); }
    confirmSetup(options) { return this.confirm("setup_intents", "setup_intent", options); }

    async confirm(collection, kind, { elements, clientSecret, confirmParams = {}, redirect = "always" }) {
      const secret = clientSecret || (elements && elements.options.clientSecret);
      if (!secret) return { error: { type: "invalid_request_error", message: "A client secret is needed." } };
      const element = elements && elements.getElement("payment");
      const invalid = element ? element.validate() : { message: "Create and mount the Payment Element first." };
      if (invalid) return { error: invalid };
      const card = element.card();
      const method = await this.api("POST", "/v1/payment_methods", {
        type: "card", "card[number]": card.number, "card[exp_month]": card.month, "card[exp_year]": card.year, "card[cvc]": card.cvc,
      });
      if (method.error) return { error: method.error };
      const id = secret.split("_secret_")[0];
      const confirmed = await this.api("POST", "/v1/" + collection + "/" + id + "/confirm", {
        client_secret: secret, payment_method: method.object.id, return_url: confirmParams.return_url,
      });
      if (confirmed.error) return { error: confirmed.error };
      let intent = confirmed.object;
      if (intent.status === "requires_action") intent = await this.authenticate(collection, intent);
      return this.finish(kind, intent, confirmParams.return_url, redirect);
    }

    /** Shows the 3-D Secure dialog with the buttons of Stripe's test page; resolves with the intent. */
    authenticate(collection, intent) {
      const url = intent.next_action && intent.next_action.redirect_to_url && intent.next_action.redirect_to_url.url;
      return new Promise((resolve) => {
        const dialog = document.createElement("div");
        dialog.className = "sandbox-3ds";
        dialog.setAttribute("role", "dialog");
        dialog.setAttribute("aria-label", "3D Secure 2 Test Page");
        dialog.innerHTML = '<div class="sandbox-3ds-box"><h2>3D Secure 2 Test Page</h2>' +
          "<p>Billhook's Stripe sandbox: authenticate this payment.</p>" +
          '<button type="button" data-result="complete">Complete authentication</button> ' +
          '<button type="button" data-result="fail">Fail authentication</button></div>';
        dialog.style.cssText = "position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:2147483647";
        dialog.firstChild.style.cssText = "background:#fff;padding:1.5rem;border-radius:8px;max-width:24rem;font-family:system-ui,sans-serif";
        document.body.appendChild(dialog);
        dialog.addEventListener("click", async (event) => {
          const result = event.target.getAttribute && event.target.getAttribute("data-result");
          if (!result) return;
          await fetch(url.split("?")[0], {
            method: "POST", redirect: "manual",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: form({ client_secret: intent.client_secret, result }),
          });
          dialog.remove();
          const again = await this.api("GET", "/v1/" + collection + "/" + intent.id, { client_secret: intent.client_secret });
          resolve(again.object || intent);
        });
      });
    }

    // As Stripe.js does for cards: a failure (declined, authentication failed) resolves in place
    // with the error; only a completed confirmation goes to `return_url`.
    finish(kind, intent, returnUrl, redirect) {
      const failed = intent.status === "requires_payment_method";
      const lastError = intent.last_payment_error || intent.last_setup_error;
      if (failed && lastError) return { error: lastError };
      if (redirect !== "if_required" && returnUrl) {
        const target = new URL(returnUrl, window.location.href);
        target.searchParams.set(kind, intent.id);
        target.searchParams.set(kind + "_client_secret", intent.client_secret);
        target.searchParams.set("redirect_status", failed ? "failed" : intent.status === "processing" ? "processing" : "succeeded");
        window.location.assign(target.toString());
        return new Promise(() => {});
      }
      return { [kind === "payment_intent" ? "paymentIntent" : "setupIntent"]: intent };
    }

    async handleNextAction({ clientSecret }) {
      const collection = clientSecret.startsWith("seti_") ? "setup_intents" : "payment_intents";
      const kind = collection === "setup_intents" ? "setup_intent" : "payment_intent";
      const found = await this.api("GET", "/v1/" + collection + "/" + clientSecret.split("_secret_")[0], { client_secret: clientSecret });
      if (found.error) return { error: found.error };
      let intent = found.object;
      if (intent.status === "requires_action") intent = await this.authenticate(collection, intent);
      return this.finish(kind, intent, null, "if_required");
    }

    retrievePaymentIntent(clientSecret) {
      return this.api("GET", "/v1/payment_intents/" + clientSecret.split("_secret_")[0], { client_secret: clientSecret })
        .then((r) => (r.error ? { error: r.error } : { paymentIntent: r.object }));
    }
  }

  window.Stripe = function (key, options) { return new StripeSandbox(key, options); };
})();
