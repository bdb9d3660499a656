/* csrnews search page. Asks /api/search (csrnews serve: ranking, highlights, suggestions);
 * where no search service answers (a static host), searches the site's Pagefind bundles in
 * the browser instead (pagefind/shards.json, built by `csrnews build`). Shows the results
 * first, the filters beside them (a panel that opens on narrow screens), and keeps the query
 * and filters in the URL (shareable; the back button works).
 * Everything from the API or the index is inserted as text; only <mark> becomes an element. */
(function () {
  "use strict";

  var form = document.getElementById("search-form");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var results = document.getElementById("search-results");
  var noticeBox = document.getElementById("search-notice");
  var facetsBox = document.getElementById("search-facets");
  var panel = document.getElementById("search-filters");
  var filterCount = document.getElementById("search-filter-count");
  var statusLine = document.getElementById("search-status");
  var api = form.getAttribute("data-api") || "/api/search";
  var root = form.getAttribute("data-root") || "/";
  var bundleRoot = form.getAttribute("data-pagefind") || "/pagefind/";
  var TYPES = {};
  try { TYPES = JSON.parse(form.getAttribute("data-types") || "{}"); } catch (e) { TYPES = {}; }
  var LANGS = { en: "English", zh: "\u4e2d\u6587" };
  var PER_PAGE = 10;
  var SHOWN = 5; // facet values shown before "show more"
  var FILTERS = ["type", "org", "year", "source", "lang"];
  var FACETS = [
    ["type", "type", "Event type"],
    ["organisation", "org", "Organisation"],
    ["year", "year", "Year"],
    ["lang", "lang", "Language"],
    ["source", "source", "Source"]
  ];
  var expanded = {};
  var mode = "api"; // "static" once the API did not answer
  var staticSearch = null; // a promise of the merged Pagefind instance
  var staleEntries = Object.create(null); // result id: the shards listing it stale, with its filter values
  var timer = null;
  var latest = 0;
  var wide = window.matchMedia("(min-width: 52rem)");

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

  /* A snippet's text, in parts: [text, marked], decoded. */
  function snippetParts(snippet) {
    var parts = [];
    String(snippet || "").split(/(<mark[^>]*>[\s\S]*?<\/mark>)/).forEach(function (part) {
      var m = /^<mark[^>]*>([\s\S]*?)<\/mark>$/.exec(part);
      if (m) { parts.push([decode(m[1]), true]); }
      else if (part) { parts.push([decode(part), false]); }
    });
    return parts;
  }

  function snippetNode(parts) {
    var p = el("p", { "class": "snippet" });
    parts.forEach(function (part) {
      p.appendChild(part[1] ? el("mark", {}, part[0]) : document.createTextNode(part[0]));
    });
    return p;
  }

  function siteUrl(url) {
    if (/^(https?:)?\/\//.test(url)) { return url; }
    return (root + String(url || "").replace(/^\/+/, "")).replace(/\/{2,}/g, "/");
  }

  function currentState() {
    var params = new URLSearchParams(window.location.search);
    var page = parseInt(params.get("page") || "1", 10);
    var state = { q: params.get("q") || "", page: isFinite(page) && page > 0 ? page : 1 };
    FILTERS.forEach(function (f) { state[f] = params.getAll(f); });
    return state;
  }

  function toParams(state) {
    var params = new URLSearchParams();
    if (state.q) { params.set("q", state.q); }
    FILTERS.forEach(function (f) { (state[f] || []).forEach(function (v) { params.append(f, v); }); });
    if (state.page && state.page !== 1) { params.set("page", String(state.page)); }
    return params;
  }

  function href(state) { return "?" + toParams(state).toString(); }

  function go(state, replace) {
    var url = window.location.pathname + href(state);
    if (replace) { history.replaceState(null, "", url); } else { history.pushState(null, "", url); }
    run(state);
  }

  function say(text) { statusLine.textContent = text; }

  function label(filter, value, given) {
    if (filter === "type") { return TYPES[value] || given || value; }
    if (filter === "lang") { return LANGS[value] || given || value; }
    return given || value;
  }

  /* Facets: each value a toggle (counts from the answer); the top values, then "show more". */
  function renderFacets(state, facets) {
    facetsBox.textContent = "";
    var active = 0;
    FACETS.forEach(function (spec) {
      var name = spec[0], filter = spec[1], values = (facets || {})[name] || [];
      var chosen = state[filter] || [];
      active += chosen.length;
      chosen.forEach(function (value) { // a chosen value stays visible even with no count
        if (!values.some(function (v) { return v.value === value; })) {
          values = values.concat([{ value: value, count: 0 }]);
        }
      });
      if (!values.length) { return; }
      var group = el("section", { "class": "facet", "data-facet": name });
      var headingId = "facet-" + name;
      group.appendChild(el("h2", { "class": "facet-title", id: headingId }, spec[2]));
      var list = el("ul", { "class": "facet-values", "aria-labelledby": headingId });
      var open = expanded[name] || values.length <= SHOWN + 1;
      values.forEach(function (item, i) {
        var on = chosen.indexOf(item.value) !== -1;
        var li = el("li", i >= SHOWN && !open && !on ? { hidden: "" } : {});
        var next = currentState();
        next.page = 1;
        next[filter] = on ? chosen.filter(function (v) { return v !== item.value; })
                          : chosen.concat([item.value]);
        var link = el("a", { href: href(next), "class": "facet-value" + (on ? " active" : ""),
                             "aria-pressed": on ? "true" : "false", role: "button",
                             "data-filter": filter, "data-value": item.value });
        if (filter === "lang") { link.setAttribute("lang", item.value); }
        link.appendChild(el("span", { "class": "facet-label" }, label(filter, item.value, item.label)));
        link.appendChild(el("span", { "class": "facet-count" }, item.count));
        link.addEventListener("click", function (event) {
          event.preventDefault();
          go(next, false);
        });
        li.appendChild(link);
        list.appendChild(li);
      });
      group.appendChild(list);
      var hidden = list.querySelectorAll("li[hidden]").length;
      if (hidden) {
        var more = el("button", { type: "button", "class": "facet-more", "aria-expanded": "false" },
                      "Show " + hidden + " more");
        more.addEventListener("click", function () {
          expanded[name] = true;
          list.querySelectorAll("li[hidden]").forEach(function (li) { li.hidden = false; });
          more.remove();
        });
        group.appendChild(more);
      }
      facetsBox.appendChild(group);
    });
    if (active) {
      var clear = currentState();
      FILTERS.forEach(function (f) { clear[f] = []; });
      clear.page = 1;
      var reset = el("a", { href: href(clear), "class": "facet-clear" }, "Clear all filters");
      reset.addEventListener("click", function (event) { event.preventDefault(); go(clear, false); });
      facetsBox.insertBefore(reset, facetsBox.firstChild);
    }
    filterCount.textContent = active ? " (" + active + " on)" : "";
  }

  function noticeLine(text, link) {
    var p = el("p", { "class": "notice" }, text);
    if (link) { p.appendChild(document.createTextNode(" ")); p.appendChild(link); }
    noticeBox.appendChild(p);
  }

  function renderAnswer(state, answer) {
    results.textContent = "";
    noticeBox.textContent = "";
    if (answer.notice) {
      var fix = null;
      if (answer.total && state.page > answer.pages) {
        var last = currentState(); last.page = answer.pages;
        fix = el("a", { href: href(last) }, "Go to page " + answer.pages);
        fix.addEventListener("click", function (event) { event.preventDefault(); go(last, false); });
      }
      noticeLine(answer.notice, fix);
    }
    if (answer.suggestion) {
      var hint = el("p", { "class": "suggestion" }, "Did you mean ");
      var next = currentState(); next.q = answer.suggestion; next.page = 1;
      var link = el("a", { href: href(next) }, answer.suggestion);
      link.addEventListener("click", function (event) {
        event.preventDefault();
        input.value = answer.suggestion;
        go(next, false);
      });
      hint.appendChild(link);
      hint.appendChild(document.createTextNode("?"));
      noticeBox.appendChild(hint);
    }
    var list = el("ol", { "class": "hits", start: String((state.page - 1) * PER_PAGE + 1) });
    (answer.hits || []).forEach(function (hit) {
      var item = el("li", { "class": "hit", lang: hit.lang || "" });
      var title = el("h2", { "class": "hit-title" });
      title.appendChild(el("a", { href: siteUrl(hit.url) }, hit.title));
      item.appendChild(title);
      var meta = [hit.date, hit.category_label || TYPES[hit.category] || hit.category, hit.source]
        .filter(Boolean).join(" \u00b7 ");
      item.appendChild(el("p", { "class": "hit-meta", lang: "en" }, meta));
      item.appendChild(snippetNode(hit.parts || snippetParts(hit.snippet)));
      list.appendChild(item);
    });
    if (answer.hits && answer.hits.length) { results.appendChild(list); }
    if (answer.pages > 1 && state.page <= answer.pages) {
      var nav = el("nav", { "class": "pagination", "aria-label": "Result pages" });
      [["Previous", state.page - 1, "prev"], ["Next", state.page + 1, "next"]].forEach(function (p) {
        if (p[1] < 1 || p[1] > answer.pages) { return; }
        var target = currentState(); target.page = p[1];
        var a = el("a", { href: href(target), rel: p[2] }, p[0]);
        a.addEventListener("click", function (event) {
          event.preventDefault();
          go(target, false);
          window.scrollTo(0, 0);
        });
        nav.appendChild(a);
      });
      nav.insertBefore(el("span", {}, "Page " + state.page + " of " + answer.pages), nav.children[1] || null);
      results.appendChild(nav);
    }
    var total = answer.total === 1 ? "1 story" : answer.total + " stories";
    var line = state.q ? total + " found for \u201c" + (answer.searched || state.q) + "\u201d" : total;
    if (answer.partial) { line += " (the search ran out of time: some stories may be missing)"; }
    if (mode === "static") { line += " \u2014 searched in your browser"; }
    say(line);
    renderFacets(state, answer.facets);
  }

  /* The static search: Pagefind's bundles, merged into one instance, searched in the page.
   * A shard linked from an earlier build lists its stale entries (stories changed or gone
   * since, the newer ones in the "recent" shard): their result ids and filter values. */
  function loadStatic() {
    if (staticSearch) { return staticSearch; }
    staticSearch = fetch(bundleRoot + "shards.json")
      .then(function (response) {
        if (!response.ok) { throw new Error("no static search bundle"); }
        return response.json();
      })
      .then(function (manifest) {
        var shards = (manifest.shards || []).map(function (s) { return bundleRoot + s.id + "/"; });
        if (!shards.length) { throw new Error("the static search bundle is empty"); }
        var ids = manifest.shards.map(function (s) { return String(s.id); });
        staleEntries = Object.create(null);
        (manifest.shards || []).forEach(function (s) {
          (s.stale || []).forEach(function (e) {
            (staleEntries[e[0]] = staleEntries[e[0]] || []).push({ shard: String(s.id), values: e[1] || {} });
          });
        });
        // Each shard gets a "shard" filter of its own (Pagefind's mergeFilter): which shard a
        // result comes from, for keepMatchingShards.
        return import(shards[0] + "pagefind.js").then(function (pagefind) {
          return pagefind.options({ baseUrl: root, excerptLength: 30, mergeFilter: { shard: ids[0] } })
            .then(function () {
              return shards.slice(1).reduce(function (chain, path, i) {
                return chain.then(function () {
                  return pagefind.mergeIndex(path, { mergeFilter: { shard: ids[i + 1] } });
                });
              }, Promise.resolve());
            })
            .then(function () { return pagefind.filters(); }) // loads the filter indexes
            .then(function () { return pagefind; });
        });
      });
    return staticSearch;
  }

  function staticFacets(counts, state) {
    var facets = {};
    FACETS.forEach(function (spec) {
      var values = Object.keys((counts || {})[spec[1]] || {}).map(function (value) {
        return { value: value, count: counts[spec[1]][value] };
      }).filter(function (v) { return v.count > 0 || (state[spec[1]] || []).indexOf(v.value) !== -1; });
      if (spec[1] === "year") {
        values.sort(function (a, b) { return b.value.localeCompare(a.value); });
      } else {
        values.sort(function (a, b) { return b.count - a.count || a.value.localeCompare(b.value); });
        values = values.slice(0, 30);
      }
      facets[spec[0]] = values;
    });
    return facets;
  }

  /* The results less the stale entries, before any data is loaded; their filter values come
   * off the counts (Pagefind counts each value over the results it returns). One copy of an
   * id goes for each answering shard that lists it stale: a stale id names no other fragment
   * but the very same one (a story moved to another shard, or changed but not its record). */
  function dropStale(search) {
    var used = Object.create(null);
    var counts = search.filters || {};
    return search.results.filter(function (result) {
      var entries = staleEntries[result.id];
      if (!entries) { return true; }
      var next = used[result.id] || 0;
      while (next < entries.length && search.kept && !search.kept[entries[next].shard]) { next += 1; }
      used[result.id] = next + 1;
      if (next >= entries.length) { return true; }
      var stale = entries[next].values;
      Object.keys(stale).forEach(function (filter) {
        (stale[filter] || []).forEach(function (value) {
          if (counts[filter] && counts[filter][value] > 0) { counts[filter][value] -= 1; }
        });
      });
      return false;
    });
  }

  /* The query as Pagefind's search would take it on a page in the index's language, zh (the
   * bundles are built with that one language, so Chinese is indexed in words: 供应链 as 供应
   * and 链; this page is "en", and Pagefind segments a query only when the page's language is
   * zh, ja or th, which no option changes). Each run of the query between spaces that holds
   * Chinese (Han, kana or Thai) is split as Pagefind's zh path splits it: into words by
   * Intl.Segmenter("zh"), each word without the graphemes Pagefind's test takes for
   * punctuation (the test as written: a grapheme that starts with a dash, holds a closing,
   * final, initial or other punctuation mark, or ends with an opening one) and lower-cased.
   * So 供应链 is searched as 供应 链, as the index holds it, and not as one word matched by
   * its longest indexed prefix (供应, in 供应商 too). The zh path would also split a word of
   * other scripts at its signs (third-party, SJ/T, R&D, e-waste): that makes some English
   * queries find more that /api/search does not (Pagefind matches each word as a prefix,
   * anywhere in a story: r and d, e and waste), so those runs stay as they are, searched as
   * before (Pagefind's en path joins them: rd). An exact search (the whole query in quotes)
   * keeps its quotes: Pagefind looks for them before it drops punctuation. Pagefind's own
   * characters to keep (include_characters: "_" and the like) are connector punctuation,
   * which the test never drops nor lower-casing changes. Without Intl.Segmenter the query
   * stays as it is (Pagefind's zh path needs it too). With ``whole``, words of Chinese
   * characters next to each other are not parted (东莞 stays 东莞, the run searched whole by
   * keepWhatTheApiFinds); the rest is split as without it. */
  var PUNCTUATION = /^\p{Pd}|\p{Pe}|\p{Pf}|\p{Pi}|\p{Po}|\p{Ps}$/u;
  var SEGMENTED = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}]/u;
  var HAN = /^\p{sc=Han}+$/u;

  function segmentQuery(q, whole) {
    if (typeof Intl === "undefined" || typeof Intl.Segmenter !== "function") { return q; }
    var words = new Intl.Segmenter("zh", { granularity: "word" });
    var graphemes = new Intl.Segmenter("zh", { granularity: "grapheme" });
    var exact = /^\s*".+"\s*$/.test(q);
    var term = String(q).split(/\s+/).map(function (run) {
      if (!SEGMENTED.test(run)) { return run; }
      var last = "";
      return Array.from(words.segment(run)).map(function (word) {
        var text = Array.from(graphemes.segment(word.segment)).map(function (g) {
          return PUNCTUATION.test(g.segment) ? "" : g.segment.toLocaleLowerCase();
        }).join("");
        var joined = whole && HAN.test(last) && HAN.test(word.segment); // 东莞, not 东 莞
        last = word.segment;
        return (joined ? "" : " ") + text;
      }).join("");
    }).join(" ").replace(/\s{2,}/g, " ").trim();
    if (exact) { term = term.replace(/^"|"$/g, ""); } // the quotes of a run left as it was
    return term && exact ? '"' + term + '"' : term;
  }

  /* Pagefind's query words, as its search splits and normalises them (of the segmented
   * query; the reader's own words for the marks) and as the checks compare them. */
  function plainWord(text) {
    return String(text || "").toLocaleLowerCase().normalize("NFD").replace(/\p{M}/gu, "")
      .replace(/[^\p{L}\p{N}]/gu, "");
  }

  function queryWords(q) {
    var seen = Object.create(null);
    return String(q).split(/\s+/).map(plainWord).filter(function (w) {
      if (!w || seen[w]) { return false; }
      seen[w] = true;
      return true;
    });
  }

  /* Pagefind marks the indexed words at a hit's locations: a Chinese query word the index
   * holds split into shorter words (供应链 as 供应 and 链, 年会 as 年 and 会) is searched in
   * those words and marked in pieces (<mark>供应</mark><mark>链</mark>); a query word searched
   * whole that the index holds only split (where Intl.Segmenter is missing, or splits it less
   * finely than the index) matches by its longest indexed prefix, and only that prefix is
   * marked. A mark that starts a query word which the text right after it completes takes in
   * the rest of the word (and any mark within it): the whole query word is marked, as
   * /api/search marks it. Nothing else changes: no mark that ends in a space or a sign grows,
   * nor one the text does not complete. */
  function markWholeWords(parts, words) {
    var out = parts.map(function (part) { return [part[0], part[1]]; });
    out.forEach(function (part, i) {
      var start = plainWord(part[0]);
      if (!part[1] || !start || i + 1 >= out.length) { return; }
      if (/[^\p{L}\p{N}\p{M}]$/u.test(part[0])) { return; } // "supply " ends its word
      var chars = Array.from(out.slice(i + 1).map(function (p) { return p[0]; }).join(""));
      var grow = 0;
      words.forEach(function (word) {
        if (word.length <= start.length || word.indexOf(start) !== 0) { return; }
        var have = start, taken = 0, k = 0;
        for (; k < chars.length && have !== word; k += 1) {
          var c = plainWord(chars[k]);
          if (!c && /^\p{M}$/u.test(chars[k])) { taken += chars[k].length; continue; }
          if (!c || word.indexOf(have + c) !== 0) { break; }
          have += c;
          taken += chars[k].length;
        }
        if (have !== word) { return; }
        for (; k < chars.length && /^\p{M}$/u.test(chars[k]); k += 1) { taken += chars[k].length; }
        grow = Math.max(grow, taken);
      });
      for (var n = i + 1; grow > 0 && n < out.length; n += 1) {
        var take = Math.min(grow, out[n][0].length);
        part[0] += out[n][0].slice(0, take);
        out[n][0] = out[n][0].slice(take);
        grow -= take;
      }
    });
    return out.filter(function (part) { return part[0]; });
  }

  /* A Chinese query word of three or more characters is searched in the shorter words the
   * index holds (供应链 as 供应 and 链), and Pagefind marks those wherever they stand: the 供应
   * of 供应商 too. As /api/search does, a mark that is only a piece of such a word of the
   * reader's, and holds none of the reader's words whole, is left plain, where the excerpt
   * shows that word whole somewhere (else its pieces are all the reader sees of it). */
  function unmarkPieces(parts, readerWords) {
    var runs = readerWords.filter(function (w) { return /^\p{sc=Han}{3,}$/u.test(w); });
    if (!runs.length) { return parts; }
    var text = plainWord(parts.map(function (part) { return part[0]; }).join(""));
    var shown = runs.filter(function (r) { return text.indexOf(r) !== -1; });
    return parts.map(function (part) {
      var t = plainWord(part[0]);
      if (!part[1] || !t) { return part; }
      var whole = readerWords.some(function (w) { return t.indexOf(w) !== -1; });
      var piece = shown.some(function (r) { return r !== t && r.indexOf(t) !== -1; });
      return whole || !piece ? part : [part[0], false];
    });
  }

  /* How a shard's hit matched a query word: Infinity when one of its matched words (the words
   * at its locations, or of its matched meta fields) starts with it, else the length of the
   * longest matched word it starts with (Pagefind's fallback to the longest indexed prefix),
   * -1 when neither tells. */
  function matchLevel(data, meta, word) {
    var content = String(data.raw_content || data.content || "");
    var parts = content.indexOf("\u200B") !== -1 ? content.split("\u200B") : content.split(/[\r\n\s]+/g);
    var words = (data.locations || []).map(function (l) { return parts[l]; });
    (meta || []).forEach(function (field) {
      words = words.concat(String((data.meta || {})[field] || "").split(/[\s\u200B]+/));
    });
    var level = -1;
    words.map(plainWord).forEach(function (w) {
      if (!w) { return; }
      if (w.indexOf(word) === 0) { level = Infinity; }
      else if (word.indexOf(w) === 0 && w.length > level) { level = w.length; }
    });
    return level;
  }

  function addCounts(into, counts) {
    Object.keys(counts || {}).forEach(function (filter) {
      into[filter] = into[filter] || {};
      Object.keys(counts[filter]).forEach(function (value) {
        into[filter][value] = (into[filter][value] || 0) + counts[filter][value];
      });
    });
    return into;
  }

  /* A query word a shard does not index makes Pagefind, in that shard, match the longest
   * prefix of it that the shard does index ("a" for "amfori"): hits one index of all the
   * stories would not give. Keep, for every word, only the shards that match it as the one
   * index would: those that index it (Pagefind's exact search finds it there, stemmed) or a
   * word it starts, else those whose fallback prefix is the longest. The answer is then made
   * of the kept shards' own searches: their hits, totals and facet counts. A query word no
   * shard's hit tells about (-1) drops no shard. A shard where the word matches nothing at
   * all (Pagefind's search of the word alone finds nothing there) is the lowest (0): Pagefind
   * leaves a word that matches nothing out of the query, so that shard's hits lack it (社会
   * 责任 in a shard without 社会: its hits of 责任 alone), where one index would ask for it. */
  function keepMatchingShards(pagefind, q, filters, search) {
    var perShard = (search.filters || {}).shard || {};
    var shards = Object.keys(perShard).filter(function (id) { return perShard[id] > 0; });
    var words = queryWords(q);
    if (shards.length < 2 || !words.length || /^\s*".+"\s*$/.test(q)) { return search; }
    var own = Object.create(null);
    function shardSearch(id) {
      if (!own[id]) {
        var only = {};
        Object.keys(filters).forEach(function (f) { only[f] = filters[f]; });
        only.shard = { any: [id] };
        own[id] = pagefind.search(q, { filters: only });
      }
      return own[id];
    }
    var topData = Object.create(null);
    function top(id) {
      if (!topData[id]) {
        topData[id] = shardSearch(id).then(function (mine) {
          var first = mine.results[0];
          if (!first) { return null; }
          return first.data().then(function (data) {
            return { data: data, meta: first.matchedMetaFields || [] };
          });
        });
      }
      return topData[id];
    }
    return Promise.all(words.map(function (word) {
      return Promise.all([pagefind.search('"' + word + '"', {}), pagefind.search(word, {})])
        .then(function (answers) {
          var found = (answers[0].filters || {}).shard || {};
          var any = (answers[1].filters || {}).shard || {};
          return Promise.all(shards.map(function (id) {
            if (found[id] > 0) { return Infinity; }
            if (!(any[id] > 0)) { return 0; }
            return top(id).then(function (hit) { return hit ? matchLevel(hit.data, hit.meta, word) : -1; });
          }));
        });
    })).then(function (levels) {
      var kept = {};
      shards.forEach(function (id) { kept[id] = true; });
      levels.forEach(function (byShard) {
        var best = Math.max.apply(null, byShard);
        byShard.forEach(function (level, i) {
          if (level !== -1 && level < best) { kept[shards[i]] = false; }
        });
      });
      var keep = shards.filter(function (id) { return kept[id]; });
      if (keep.length === shards.length) { return search; }
      return Promise.all(keep.map(shardSearch)).then(function (answers) {
        var results = [];
        var counts = {};
        answers.forEach(function (a) { results = results.concat(a.results); addCounts(counts, a.filters); });
        results.sort(function (a, b) { return b.score - a.score; });
        var keptSet = {};
        keep.forEach(function (id) { keptSet[id] = true; });
        return { results: results, filters: counts, kept: keptSet };
      });
    }).catch(function () { return search; }); // a check that fails leaves Pagefind's answer
  }

  /* /api/search indexes a run of Chinese characters (CJK ideographs between other characters)
   * as its overlapping bigrams, and searches a run of the query as its bigrams, all of them in
   * one field (title, summary, body; or the run an organisation's whole name); a run of one
   * character is indexed, and found, only where it stands alone. Pagefind matches each of the
   * query's words as a prefix of a word its index holds, anywhere in the story. The run split
   * in pieces (segmentQuery: 年会 as 年 会) so finds stories with the pieces apart (年 of 年度,
   * 会 of 会员: hits the API does not give); a piece the index only holds inside a longer word
   * (莞, where the index holds 东莞) matches nothing and is dropped (more such hits); and
   * quoting the pieces (an exact phrase of words) misses the stories where the index holds the
   * run as one word or the start of one. So the query is searched twice, its runs in pieces
   * (as segmentQuery splits them) and whole (东莞: a prefix of 东莞 and of 东莞市), and a story
   * found either way is kept only where the API would find each run in it: every bigram of the
   * run in its title, or in the rest of its indexed text (summary and body, which the record's
   * content does not tell apart; Pagefind's word breaks taken out), or the run one of its
   * organisations; the facet counts are then those of the stories kept. A query without
   * Chinese characters is searched exactly as before. */
  var CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"; // /api/search's (search/analysis.py)
  var CJK_RUNS = new RegExp("[" + CJK + "]+", "g");

  function cjkRuns(q) {
    var seen = Object.create(null);
    return (String(q).match(CJK_RUNS) || []).filter(function (run) {
      if (seen[run]) { return false; }
      seen[run] = true;
      return true;
    });
  }

  function apiFinds(data, runs) {
    var title = String((data.meta || {}).title || "");
    var rest = String(data.content || "").replace(/\u200B/g, ""); // title, summary and body
    if (title && rest.indexOf(title) === 0) { rest = rest.slice(title.length); }
    var fields = [title, rest];
    var orgs = (data.filters || {}).org || [];
    return runs.every(function (run) {
      if (orgs.indexOf(run) !== -1) { return true; }
      var chars = Array.from(run);
      return fields.some(function (text) {
        if (chars.length === 1) { // a run of one character is indexed only where it stands alone
          return (text.match(CJK_RUNS) || []).indexOf(run) !== -1;
        }
        for (var i = 0; i + 1 < chars.length; i += 1) {
          if (text.indexOf(chars[i] + chars[i + 1]) === -1) { return false; }
        }
        return true;
      });
    });
  }

  /* Each result's data, at most LOAD_AT_ONCE fragment requests in flight (a static server
   * refuses a thousand at once: "Failed to fetch"). */
  var LOAD_AT_ONCE = 8;
  var CHECKED_AT_MOST = 500; // stories whose data a query loads to check them, at most

  function loadAll(results) {
    var data = new Array(results.length);
    var next = 0;
    function worker() {
      if (next >= results.length) { return Promise.resolve(); }
      var i = next++;
      return results[i].data().then(function (d) { data[i] = d; return worker(); });
    }
    var workers = [];
    for (var k = 0; k < LOAD_AT_ONCE; k += 1) { workers.push(worker()); }
    return Promise.all(workers).then(function () { return data; });
  }

  function countFilters(counts, d) {
    Object.keys(d.filters || {}).forEach(function (f) {
      counts[f] = counts[f] || {};
      d.filters[f].forEach(function (v) { counts[f][v] = (counts[f][v] || 0) + 1; });
    });
  }

  function keepWhatTheApiFinds(pagefind, reader, q, filters, search) {
    var runs = cjkRuns(reader);
    if (!runs.length) { return search; }
    var whole = segmentQuery(reader, true);
    // a query of Chinese runs only: every story kept is checked for every run, and so the
    // shards need not be (keepMatchingShards), for the words of the query other than the runs
    var onlyRuns = String(reader).replace(/"/g, " ").split(/\s+/).every(function (w) {
      return !w || (w.match(CJK_RUNS) || []).join("") === w;
    });
    var other = whole === q ? Promise.resolve(null)
      : pagefind.search(whole, { filters: filters }).then(function (found) {
        return onlyRuns ? found : keepMatchingShards(pagefind, whole, filters, found);
      });
    // A query that is one run of two or more characters: the stories holding its words one
    // after the other (Pagefind's exact search of them: 供应 链 at consecutive places, or the
    // word 供应链) hold the run, so the API finds them; their data need not be loaded.
    var one = runs.length === 1 && Array.from(runs[0]).length > 1 && reader.trim() === runs[0];
    var exact = one ? pagefind.search('"' + q + '"', { filters: filters }) : Promise.resolve(null);
    return Promise.all([other, exact]).then(function (answers) {
      var more = answers[0], sure = answers[1];
      var results = search.results.slice();
      var known = Object.create(null);
      results.forEach(function (r) { known[r.id] = true; });
      (more ? more.results : []).forEach(function (r) { if (!known[r.id]) { results.push(r); } });
      var certain = Object.create(null);
      (sure ? sure.results : []).forEach(function (r) { certain[r.id] = true; });
      var held = results.filter(function (r) { return certain[r.id]; });
      var check = results.filter(function (r) { return !certain[r.id]; });
      // the sure hits' filter counts are Pagefind's, where they are all among the results
      var sureCounts = sure && held.length === sure.results.length;
      if (!sureCounts) { check = results; held = []; }
      if (check.length > CHECKED_AT_MOST) { return search; } // too many to check: as before
      return loadAll(check).then(function (data) {
        var kept = held.slice();
        var counts = sureCounts ? addCounts({}, sure.filters) : {};
        delete counts.shard;
        var added = 0;
        check.forEach(function (r, i) {
          var d = data[i];
          if (!apiFinds(d, runs)) { return; }
          if (!known[r.id]) { added += 1; } // found by the runs whole only
          kept.push({ id: r.id, score: r.score, words: r.words,
                      data: function () { return Promise.resolve(d); } });
          countFilters(counts, d);
        });
        held.forEach(function (r) { if (!known[r.id]) { added += 1; } });
        if (!added && kept.length === search.results.length) { return search; } // no change
        kept.sort(function (a, b) { return b.score - a.score; });
        // the shards that answered (dropStale): those of either search (none said: all)
        var shards = search.kept;
        if (more && more.results.length) {
          shards = search.kept && more.kept ? {} : undefined;
          [search.kept, more.kept].forEach(function (some) {
            Object.keys(shards ? some : {}).forEach(function (id) { shards[id] = true; });
          });
        }
        return { results: kept, filters: counts, kept: shards };
      });
    }).catch(function () { return search; }); // a check that fails leaves the first answer
  }

  function runStatic(state, ticket) {
    return loadStatic().then(function (pagefind) {
      var filters = {};
      FILTERS.forEach(function (f) { if ((state[f] || []).length) { filters[f] = { any: state[f] }; } });
      var options = { filters: filters };
      if (!state.q) { options.sort = { date: "desc" }; }
      var q = state.q ? segmentQuery(state.q) : "";
      return pagefind.search(state.q ? q : null, options).then(function (search) {
        return state.q ? keepMatchingShards(pagefind, q, filters, search) : search;
      }).then(function (search) {
        return state.q ? keepWhatTheApiFinds(pagefind, state.q, q, filters, search) : search;
      }).then(function (search) {
        var found = dropStale(search);
        var total = found.length;
        var pages = Math.max(1, Math.ceil(total / PER_PAGE));
        var slice = state.page <= pages
          ? found.slice((state.page - 1) * PER_PAGE, state.page * PER_PAGE) : [];
        // the reader's words (供应链, marked whole) and the searched ones (a word of the
        // segmented query the index splits finer still is marked whole too)
        var words = queryWords((state.q || "") + " " + q);
        var readerWords = queryWords(state.q || "");
        return Promise.all(slice.map(function (r) { return r.data(); })).then(function (data) {
          if (ticket !== latest) { return; }
          var notice = null;
          if (state.page > pages) {
            notice = total ? "There is no page " + state.page + ": the results end on page " + pages + "."
                           : "There is no page " + state.page + ": nothing was found.";
          }
          renderAnswer(state, {
            total: total, pages: pages, notice: notice, suggestion: null, searched: state.q,
            facets: staticFacets(search.filters, state),
            hits: data.map(function (d) {
              var meta = d.meta || {};
              return { title: meta.title || d.url, url: d.url, date: meta.date, lang: meta.lang,
                       category: meta.category, category_label: meta.category_label,
                       source: meta.source, parts: unmarkPieces(markWholeWords(snippetParts(d.excerpt), words), readerWords) };
            })
          });
        });
      });
    });
  }

  function unavailable() {
    results.textContent = "";
    facetsBox.textContent = "";
    noticeBox.textContent = "";
    say("Search is not available on this copy of the site (no search service and no static " +
        "search index). Browse by event type, organisation, standard or year instead.");
    document.body.classList.add("search-unavailable");
  }

  function run(state) {
    var ticket = ++latest;
    input.value = state.q;
    say("Searching\u2026");
    if (mode === "static") {
      runStatic(state, ticket).catch(function () { if (ticket === latest) { unavailable(); } });
      return;
    }
    var params = toParams(state);
    fetch(api + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1 || response.status === 404 ||
            response.status >= 500) {
          throw new Error("no search service");
        }
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (reply) {
        if (ticket !== latest) { return; }
        if (!reply.ok) {
          results.textContent = "";
          noticeBox.textContent = "";
          say(reply.body.error || "This search could not be answered.");
          return;
        }
        renderAnswer(state, reply.body);
      }, function () {
        if (ticket !== latest) { return; }
        mode = "static";
        document.body.classList.add("search-static");
        runStatic(state, ticket).catch(function () { if (ticket === latest) { unavailable(); } });
      });
  }

  function submitNow() {
    clearTimeout(timer);
    var next = currentState();
    next.q = input.value.trim();
    next.page = 1;
    go(next, false);
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var next = currentState();
      next.q = input.value.trim();
      next.page = 1;
      go(next, true);
    }, 300);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitNow();
  });

  window.addEventListener("popstate", function () { run(currentState()); });

  function placePanel() { panel.open = wide.matches; }
  if (wide.addEventListener) { wide.addEventListener("change", placePanel); }
  placePanel();
  run(currentState());
}());
