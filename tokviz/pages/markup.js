// tokviz.pages.widgets.draw_markup: draws markup the view models made (token spans, every user character already escaped by
// tokviz.viewmodels.render) straight into the page. st.html ran the whole string through the browser's sanitizer
// and React on every rerun: with four panels of ~100 KB each that was a third of the browser's time per keystroke.
// The same markup again (a rerun that changed another panel) is left as it is.
export default function ({ data, parentElement }) {
  const html = data && typeof data.html === "string" ? data.html : "";
  if (parentElement.__tvMarkup === html) return;
  parentElement.__tvMarkup = html;
  parentElement.innerHTML = html;
}
