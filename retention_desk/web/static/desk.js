// Keyboard use of the desk: "/" focuses the search; arrow keys move through the results; Enter opens one.
// Plain JavaScript, no build step; loaded on every page.
(function () {
  "use strict";

  var active = -1;

  function searchBox() { return document.getElementById("q"); }
  function options() { return Array.prototype.slice.call(document.querySelectorAll("#results li[role=option]")); }

  function isTyping(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function highlight(index) {
    var items = options();
    active = items.length ? (index + items.length) % items.length : -1;
    items.forEach(function (li, i) {
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      if (i === active) { li.scrollIntoView({ block: "nearest" }); }
    });
  }

  function chosenLink() {
    var items = options();
    if (active >= 0 && active < items.length) { return items[active].querySelector("a"); }
    return items.length === 1 ? items[0].querySelector("a") : null;
  }

  document.addEventListener("keydown", function (event) {
    var box = searchBox();
    if (!box || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "/" && !isTyping(event.target)) {
      event.preventDefault();
      box.focus();
      box.select();
      return;
    }
    if (event.target !== box) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options().length) { return; }
      event.preventDefault();
      highlight(event.key === "ArrowDown" ? active + 1 : (active < 0 ? -1 : active - 1));
    } else if (event.key === "Enter") {
      var link = chosenLink();
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
    } else if (event.key === "Escape") {
      active = -1;
      options().forEach(function (li) { li.setAttribute("aria-selected", "false"); });
    }
  });

  // New results replace the old ones: start again from no selection.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "results") { active = -1; }
  });
})();
