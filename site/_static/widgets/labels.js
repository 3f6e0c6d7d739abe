// Widgets drawn from saved state, made readable by a screen reader once html-manager
// has drawn them:
// - a slider's description (beside it on screen) becomes its handle's accessible name,
//   as a screen reader needs ("consumers, slider, 2");
// - an Image widget's picture takes the widget's tooltip as its text alternative, or
//   else says which section's picture it is.
(function () {
  function sectionOf(element) {
    var section = element.closest("section");
    var heading = section && section.querySelector("h1, h2, h3, h4, h5, h6");
    return heading ? heading.textContent.replace(/#$/, "").trim() : document.title;
  }
  function name(root) {
    root.querySelectorAll(".widget-slider, .widget-hslider, .widget-vslider").forEach(function (widget) {
      var label = widget.querySelector(".widget-label");
      var text = label ? label.textContent.trim() : "";
      widget.querySelectorAll('[role="slider"]').forEach(function (handle) {
        if (text && !handle.getAttribute("aria-label")) handle.setAttribute("aria-label", text);
      });
    });
    root.querySelectorAll("img.widget-image:not([alt])").forEach(function (image) {
      image.alt = image.title || "The picture the widgets of “" + sectionOf(image) + "” draw";
    });
  }
  new MutationObserver(function () { name(document); }).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
