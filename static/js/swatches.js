// Colours come from data attributes: the CSP forbids inline style attributes.
function paintSwatches(root) {
  root.querySelectorAll("[data-color]").forEach((el) => {
    const c = el.dataset.color;
    if (/^#[0-9a-fA-F]{6}$/.test(c) && el.classList.contains("swatch")) el.style.background = c;
  });
}
document.addEventListener("DOMContentLoaded", () => paintSwatches(document));
document.addEventListener("htmx:afterSwap", (e) => paintSwatches(e.target));
document.addEventListener("htmx:oobAfterSwap", (e) => paintSwatches(e.target));
