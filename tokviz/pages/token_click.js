// Clicking any drawn token (a span with data-token-id, in any page's markup) tells Python which one it was, and
// clicking a band of the bytes-per-token strip (data-tv-page) which page it stands for; typing in the Tokenize
// page's Text box redraws its tokens after a pause, without Ctrl+Enter.
// One listener on the document, so tokens drawn after this mounted are clickable too; the previous listener is
// removed when the component mounts again.
// Milliseconds after the last keystroke of a burst in the Text box before its tokens are drawn again.
const TYPE_DEBOUNCE_MS = 150;
// A keystroke after this long without one is committed at once: a single edit need not wait for the pause.
const TYPE_IDLE_MS = 400;
// A high surrogate with no low one after it, or a low one with no high one before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NATIVE_VALUE = {
  textarea: Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set,
  input: Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set,
};

export default function (component) {
  const { setTriggerValue, setStateValue } = component;
  if (window.__tokvizClick) document.removeEventListener("click", window.__tokvizClick, true);
  const onClick = (event) => {
    const band = event.target.closest && event.target.closest("[data-tv-page]");
    if (band) {
      setTriggerValue("page", Number(band.dataset.tvPage));
      return;
    }
    const tok = event.target.closest && event.target.closest(".tok[data-token-id][data-tokenizer]");
    if (!tok) return;
    setTriggerValue("clicked", {
      tokenizer: tok.dataset.tokenizer,
      id: Number(tok.dataset.tokenId),
      char: tok.dataset.char === undefined ? -1 : Number(tok.dataset.char),
    });
  };
  window.__tokvizClick = onClick;
  document.addEventListener("click", onClick, true);
  // A hover card near the window's right or bottom edge opens to the left or above instead of being cut off.
  if (window.__tokvizHover) document.removeEventListener("mouseover", window.__tokvizHover, true);
  const onHover = (event) => {
    const tok = event.target.closest && event.target.closest(".tok");
    const card = tok && tok.querySelector(":scope > .tv-card");
    if (!card) return;
    card.style.left = ""; card.style.right = ""; card.style.top = ""; card.style.bottom = "";
    const box = card.getBoundingClientRect();
    if (box.right > window.innerWidth - 4) { card.style.left = "auto"; card.style.right = "0"; }
    if (box.bottom > window.innerHeight - 4) { card.style.top = "auto"; card.style.bottom = "calc(100% + 3px)"; }
  };
  window.__tokvizHover = onHover;
  document.addEventListener("mouseover", onHover, true);
  // A lone UTF-16 surrogate (half of an emoji's pair, as a cut paste or a script can leave in a box) has no UTF-8
  // form: Streamlit's message carrying it was refused by the server whole, so the box showed the new text and the
  // tokens the old. Each one becomes U+FFFD in the box itself, before Streamlit reads the value (this listener runs
  // first, in the capture phase on the document), and Python is told how many, in which box, at what length, so
  // the page can say so while the box holds that text.
  if (window.__tokvizRepair) document.removeEventListener("input", window.__tokvizRepair, true);
  const onRepair = (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement || box instanceof HTMLInputElement) || event.isComposing) return;
    const lone = box.value.match(LONE_SURROGATE);
    if (!lone) return;
    const [start, end] = [box.selectionStart, box.selectionEnd];
    // The prototype's setter, not the element's own: React's value tracker then still sees a change to report.
    NATIVE_VALUE[box instanceof HTMLTextAreaElement ? "textarea" : "input"].call(
      box, box.value.replace(LONE_SURROGATE, "\uFFFD"));
    if (start !== null) box.setSelectionRange(start, end);  // one code unit for one: the caret stays put
    const holder = box.closest("[class*='st-key-']");
    const key = holder ? [...holder.classList].find((c) => c.startsWith("st-key-")).slice(7) : "";
    window.__tokvizRepairs = (window.__tokvizRepairs || 0) + 1;  // a second repair at the same length is news too
    setStateValue("repaired", { key, count: lone.length, units: box.value.length, seq: window.__tokvizRepairs });
  };
  window.__tokvizRepair = onRepair;
  document.addEventListener("input", onRepair, true);
  // Tokens as you type: the page's Text box commits its value, as Ctrl+Enter does (not during an IME composition).
  // The first keystroke after a pause is committed at once; the keys of a burst after it, a moment after the last
  // one, so that fast typing reruns the page once per pause, not once per key. Only an event is sent: no text goes
  // through this script.
  if (window.__tokvizType) document.removeEventListener("input", window.__tokvizType, true);
  let typing = null;
  let lastKey = -Infinity;
  const onType = (event) => {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.closest(".st-key-text") || event.isComposing) return;
    const now = performance.now();
    const idle = now - lastKey > TYPE_IDLE_MS;
    lastKey = now;
    clearTimeout(typing);
    // Even "at once" waits for this event to finish: this listener runs before the box's own, which must see the
    // new value first.
    typing = setTimeout(() => {
      if (!area.isConnected) return;
      area.dispatchEvent(new KeyboardEvent("keydown", {
        key: "Enter", code: "Enter", keyCode: 13, which: 13, ctrlKey: true, bubbles: true, cancelable: true,
      }));
    }, idle ? 0 : TYPE_DEBOUNCE_MS);
  };
  window.__tokvizType = onType;
  document.addEventListener("input", onType, true);
  return () => {
    clearTimeout(typing);
    document.removeEventListener("click", onClick, true);
    document.removeEventListener("mouseover", onHover, true);
    document.removeEventListener("input", onType, true);
    document.removeEventListener("input", onRepair, true);
  };
}
