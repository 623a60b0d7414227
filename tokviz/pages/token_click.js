// Clicking any drawn token (a span with data-token-id, in any page's markup) tells Python which one it was.
// One listener on the document, so tokens drawn after this mounted are clickable too; the previous listener is
// removed when the component mounts again.
export default function (component) {
  const { setTriggerValue } = component;
  if (window.__tokvizClick) document.removeEventListener("click", window.__tokvizClick, true);
  const onClick = (event) => {
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
  return () => document.removeEventListener("click", onClick, true);
}
