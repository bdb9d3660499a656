/* csrnews search page: queries /api/search as the reader types, shows facets, highlights and
 * "did you mean", and keeps the query in the URL (shareable; the back button works).
 * Everything from the API is inserted as text; only <mark> from snippets becomes an element. */
(function () {
  "use strict";

  var form = document.getElementById("search-form");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var results = document.getElementById("search-results");
  var facetsBox = document.getElementById("search-facets");
  var statusLine = document.getElementById("search-status");
  var api = form.getAttribute("data-api") || "/api/search";
  var FILTERS = ["type", "org", "year", "source", "lang"];
  var FACET_TO_FILTER = { type: "type", organisation: "org", year: "year", source: "source", lang: "lang" };
  var FACET_TITLES = { type: "Event type", organisation: "Organisation", year: "Year", source: "Source", lang: "Language" };
  var timer = null;
  var latest = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function decode(escaped) {
    var doc = new DOMParser().parseFromString("<!doctype html><body>" + escaped, "text/html");
    return doc.body.textContent || "";
  }

  function snippetNode(snippet) {
    var p = el("p", { "class": "snippet" });
    String(snippet || "").split(/(<mark[^>]*>[\s\S]*?<\/mark>)/).forEach(function (part) {
      var m = /^<mark[^>]*>([\s\S]*?)<\/mark>$/.exec(part);
      if (m) { p.appendChild(el("mark", {}, decode(m[1]))); }
      else if (part) { p.appendChild(document.createTextNode(decode(part))); }
    });
    return p;
  }

  function currentState() {
    var params = new URLSearchParams(window.location.search);
    var state = { q: params.get("q") || "", page: params.get("page") || "1", sort: params.get("sort") || "" };
    FILTERS.forEach(function (f) { state[f] = params.getAll(f); });
    return state;
  }

  function toParams(state) {
    var params = new URLSearchParams();
    if (state.q) { params.set("q", state.q); }
    FILTERS.forEach(function (f) { (state[f] || []).forEach(function (v) { params.append(f, v); }); });
    if (state.page && state.page !== "1") { params.set("page", state.page); }
    if (state.sort) { params.set("sort", state.sort); }
    return params;
  }

  function pushState(state, replace) {
    var url = window.location.pathname + "?" + toParams(state).toString();
    if (replace) { history.replaceState(state, "", url); } else { history.pushState(state, "", url); }
  }

  function say(text) { statusLine.textContent = text; }

  function unavailable() {
    results.textContent = "";
    facetsBox.textContent = "";
    say("Search needs the csrnews search service (csrnews serve), which this copy of the site " +
        "cannot reach. Browse by event type, organisation, standard or year instead.");
    document.body.classList.add("search-unavailable");
  }

  function renderFacets(state, facets) {
    facetsBox.textContent = "";
    Object.keys(FACET_TITLES).forEach(function (name) {
      var values = (facets || {})[name] || [];
      if (!values.length) { return; }
      var filter = FACET_TO_FILTER[name];
      var group = el("fieldset", { "class": "facet", "data-facet": name });
      group.appendChild(el("legend", {}, FACET_TITLES[name]));
      values.forEach(function (item) {
        var active = (state[filter] || []).indexOf(item.value) !== -1;
        var button = el("button", { type: "button", "class": "facet-value" + (active ? " active" : ""),
                                    "aria-pressed": active ? "true" : "false",
                                    "data-filter": filter, "data-value": item.value });
        button.appendChild(el("span", { "class": "facet-label" }, item.label || item.value));
        button.appendChild(el("span", { "class": "facet-count" }, item.count));
        button.addEventListener("click", function () {
          var next = currentState();
          var list = next[filter] || [];
          var i = list.indexOf(item.value);
          if (i === -1) { list.push(item.value); } else { list.splice(i, 1); }
          next[filter] = list;
          next.page = "1";
          pushState(next, false);
          run(next);
        });
        group.appendChild(button);
      });
      facetsBox.appendChild(group);
    });
  }

  function renderResults(state, answer) {
    results.textContent = "";
    if (answer.suggestion) {
      var hint = el("p", { "class": "suggestion" }, "Did you mean ");
      var link = el("a", { href: "?" + toParams({ q: answer.suggestion }).toString() }, answer.suggestion);
      link.addEventListener("click", function (event) {
        event.preventDefault();
        input.value = answer.suggestion;
        var next = currentState(); next.q = answer.suggestion; next.page = "1";
        pushState(next, false);
        run(next);
      });
      hint.appendChild(link);
      hint.appendChild(document.createTextNode("?"));
      results.appendChild(hint);
    }
    var list = el("ol", { "class": "hits", start: String((answer.page - 1) * 10 + 1) });
    (answer.hits || []).forEach(function (hit) {
      var item = el("li", { "class": "hit", lang: hit.lang || "" });
      var title = el("h2", { "class": "hit-title" });
      title.appendChild(el("a", { href: hit.url }, hit.title));
      item.appendChild(title);
      var meta = [hit.date, hit.category_label || hit.category, hit.source].filter(Boolean).join(" · ");
      item.appendChild(el("p", { "class": "hit-meta" }, meta));
      item.appendChild(snippetNode(hit.snippet));
      list.appendChild(item);
    });
    results.appendChild(list);
    if (answer.pages > 1) {
      var nav = el("nav", { "class": "pagination", "aria-label": "Search result pages" });
      [["Previous", answer.page - 1], ["Next", answer.page + 1]].forEach(function (pair) {
        if (pair[1] < 1 || pair[1] > answer.pages) { return; }
        var button = el("button", { type: "button" }, pair[0]);
        button.addEventListener("click", function () {
          var next = currentState(); next.page = String(pair[1]);
          pushState(next, false);
          run(next);
          window.scrollTo(0, 0);
        });
        nav.appendChild(button);
      });
      results.appendChild(nav);
    }
    var total = answer.total === 1 ? "1 story" : answer.total + " stories";
    var line = state.q ? total + " found for \u201c" + state.q + "\u201d" : total;
    if (answer.partial) { line += " (the search ran out of time: some stories may be missing)"; }
    say(line);
  }

  function run(state) {
    var ticket = ++latest;
    say("Searching\u2026");
    fetch(api + "?" + toParams(state).toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) { throw new Error("no search service"); }
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (reply) {
        if (ticket !== latest) { return; }
        if (!reply.ok) { say(reply.body.error || "This search could not be answered."); return; }
        renderFacets(state, reply.body.facets);
        renderResults(state, reply.body);
      })
      .catch(function () { if (ticket === latest) { unavailable(); } });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var next = currentState();
      next.q = input.value.trim();
      next.page = "1";
      pushState(next, true);
      run(next);
    }, 250);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    var next = currentState();
    next.q = input.value.trim();
    next.page = "1";
    pushState(next, false);
    run(next);
  });

  window.addEventListener("popstate", function () {
    var state = currentState();
    input.value = state.q;
    run(state);
  });

  var initial = currentState();
  input.value = initial.q;
  run(initial);
}());
