// Live refresh (bench serve): the server sends a version number by server-sent events when the
// store's state changed; the page is fetched again and the parts marked data-live whose content
// changed are swapped in place. No reload, no flicker; nothing but this page's own address is fetched.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var parts = document.querySelectorAll("[data-live]");
  if (!window.EventSource || !parts.length) { return; }
  var version = document.body.getAttribute("data-version"), busy = false, again = false;

  function say(state, which) {  // the words come translated, from the page (data-on, data-off, data-failed)
    if (status) { status.className = "live " + state; status.title = status.getAttribute("data-" + which) || ""; }
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        doc.querySelectorAll("[data-live]").forEach(function (fresh) {
          var old = document.getElementById(fresh.id);
          if (old && old.innerHTML !== fresh.innerHTML) { old.innerHTML = fresh.innerHTML; }
        });
        document.body.setAttribute("data-version", version);
        say("on", "on");
      })
      .catch(function () { say("off", "failed"); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }

  var source = new EventSource(document.body.getAttribute("data-events"));
  source.addEventListener("version", function (e) {
    if (e.data !== version) { version = e.data; refresh(); } else { say("on", "on"); }
  });
  source.onerror = function () { say("off", "off"); };
}());
