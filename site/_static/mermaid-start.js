// Draw each <pre class="mermaid"> once the page has loaded, in the page's colour scheme.
mermaid.initialize({
  startOnLoad: true,
  theme: document.documentElement.dataset.theme === "dark" ? "dark" : "default",
});
