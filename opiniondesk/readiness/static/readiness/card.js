// The card step with Stripe.js (loaded before this module from the page's own <script src>):
// register a card with Stripe's card form (SetupIntent), or confirm a charge the card company
// wants the cardholder to confirm (3-D Secure). The card number goes from Stripe's frame to
// Stripe only; this module posts back the SetupIntent's id, or just that the check is over, and
// the server asks Stripe what happened.

const config = JSON.parse(document.getElementById("card-config").textContent);
const texts = JSON.parse(document.getElementById("card-messages").textContent);
const status = document.getElementById("card-status");

function say(message) {
  status.textContent = message;
  status.hidden = false;
}

function setUpCard(stripe) {
  const form = document.getElementById("card-form");
  const button = document.getElementById("card-submit");
  const elements = stripe.elements({ locale: config.locale });
  const card = elements.create("card", { hidePostalCode: true });
  card.mount("#card-element");
  card.on("change", (event) => {
    if (event.error) say(event.error.message);
    else status.hidden = true;
  });
  let done = false;
  form.addEventListener("submit", async (event) => {
    if (done) return; // the id is in the form: let it go to the server
    event.preventDefault();
    button.disabled = true;
    say(texts.working);
    const { setupIntent, error } = await stripe.confirmCardSetup(config.clientSecret, {
      payment_method: { card, billing_details: { name: config.name } },
    });
    if (error) {
      say(error.message || texts.failed);
      button.disabled = false;
      return;
    }
    document.getElementById("setup-intent").value = setupIntent.id;
    done = true;
    form.submit();
  });
}

function confirmPayment(stripe) {
  const form = document.getElementById("confirm-form");
  const button = document.getElementById("confirm-submit");
  let done = false;
  form.addEventListener("submit", async (event) => {
    if (done) return;
    event.preventDefault();
    button.disabled = true;
    say(texts.working);
    const options = config.paymentMethod ? { payment_method: config.paymentMethod } : {};
    const { error } = await stripe.confirmCardPayment(config.clientSecret, options);
    if (error) say(error.message || texts.failed);
    // Either way the server asks Stripe where the payment stands and says so.
    done = true;
    form.submit();
  });
}

if (typeof window.Stripe !== "function") {
  say(texts.noStripe);
} else {
  const stripe = window.Stripe(config.publishableKey, { locale: config.locale });
  if (config.mode === "setup") setUpCard(stripe);
  else if (config.mode === "confirm") confirmPayment(stripe);
}
