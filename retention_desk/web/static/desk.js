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

  // ---- The call ----------------------------------------------------------------------------------------------
  // Number keys 1–9 present the nth offer while a call is open and the agent is not typing.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
    if (!/^[1-9]$/.test(event.key) || !document.querySelector("[data-call-open]")) { return; }
    var button = document.querySelector('#offers button[data-offer-key="' + event.key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });

  // A refused step (422) or a forbidden one (403) comes back with the panel and its message: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A lost connection or a server failure: say so plainly. Nothing was stored by the failed click, the page keeps
  // everything typed, and every step is idempotent, so clicking again is safe.
  function banner(kind) {
    var el = document.getElementById("connection-banner");
    if (!el) { return; }
    el.textContent = el.getAttribute(kind === "lost" ? "data-lost" : "data-failed");
    el.hidden = false;
  }
  document.addEventListener("htmx:sendError", function () { banner("lost"); });
  document.addEventListener("htmx:timeout", function () { banner("lost"); });
  document.addEventListener("htmx:responseError", function () { banner("failed"); });
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = document.getElementById("connection-banner");
    if (el && event.detail.successful) { el.hidden = true; }
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) { window.htmx.config.timeout = 15000; }
  });

  // Plain forms that must go once (starting a call): the second click of a double click is ignored.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-submit-once")) { return; }
    if (form.getAttribute("data-submitted")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitted", "1");
  });
})();
