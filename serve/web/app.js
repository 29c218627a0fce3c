// The cadsearch search page: builds /v1/search requests from the form and shows the results.
// Vanilla JS, no build step. API data goes into the page as text only (never as HTML).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const els = {
    text: $("q-text"),
    image: $("q-image"),
    mesh: $("q-mesh"),
    category: $("f-category"),
    sizeMin: $("f-size-min"),
    sizeMax: $("f-size-max"),
    sameSize: $("f-same-size"),
    sameSizeTolerance: $("f-same-size-tolerance"),
    minSimilarity: $("o-min-similarity"),
    topK: $("o-top-k"),
    fusion: $("o-fusion"),
    rerank: $("o-rerank"),
    apiKey: $("o-api-key"),
    button: $("search-button"),
    like: $("like"),
    likeName: $("like-name"),
    error: $("error"),
    errorText: $("error-text"),
    status: $("status"),
    results: $("results"),
    card: $("card-template"),
    viewer: $("viewer"),
    pane: $("pane-template"),
  };
  const KEY_STORAGE = "cadsearch.apiKey";
  let likePart = null; // {part_id, name}: "more like this" while set
  let searchSeq = 0; // answers of superseded searches are dropped
  let shown = null; // {answer, query}: the results on the page and the query they answer
  let viewer = null; // the 3D viewer (viewer.js), once three.js has loaded

  // -- talking to the API ------------------------------------------------------------------------

  function headers() {
    const key = els.apiKey.value.trim();
    return key ? { "X-API-Key": key } : {};
  }

  // The JSON body of an answer; an error answer throws an Error with the service's message.
  async function callApi(path, init = {}) {
    let response;
    try {
      response = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
    } catch (err) {
      throw new Error(`Could not reach the search service (${err.message}).`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const detail = body && body.error && body.error.message;
      const message = detail || `${response.status} ${response.statusText || "error"}`;
      const err = new Error(message);
      err.status = response.status;
      throw err;
    }
    if (body === null) throw new Error(`${path}: the service answered something that is not JSON.`);
    return body;
  }

  function filters() {
    const out = {};
    if (els.category.value) out.categories = [els.category.value];
    const range = {};
    if (els.sizeMin.value !== "") range.gte = Number(els.sizeMin.value);
    if (els.sizeMax.value !== "") range.lte = Number(els.sizeMax.value);
    if (Object.keys(range).length) out.extent_max = range;
    return Object.keys(out).length ? out : null;
  }

  // fetch() options of the search the form describes: JSON, or multipart when a file is chosen.
  function searchRequest() {
    const text = els.text.value.trim();
    const image = els.image.files[0];
    const mesh = els.mesh.files[0];
    const fields = {
      top_k: els.topK.value === "" ? 12 : Number(els.topK.value),
      fusion: els.fusion.value,
    };
    // empty: the service's default (on for image and 3D-file queries)
    if (els.rerank.value) fields.rerank = els.rerank.value === "true";
    if (text) fields.text = text;
    if (likePart) fields.part_id = likePart.part_id;
    // the service checks both (0..100; same size needs a 3D file or a part) and names the field
    if (els.minSimilarity.value !== "") fields.min_similarity = Number(els.minSimilarity.value);
    if (els.sameSize.checked) fields.same_size = Number(els.sameSizeTolerance.value || 10);
    const found = filters();
    if (found) fields.filters = found;
    if (!image && !mesh) {
      return {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(fields),
      };
    }
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      data.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    if (image) data.append("image", image, image.name);
    if (mesh) data.append("mesh", mesh, mesh.name);
    return { method: "POST", body: data };
  }

  // -- showing things ------------------------------------------------------------------------------

  function showError(message) {
    els.errorText.textContent = message;
    els.error.hidden = false;
  }

  function clearError() {
    els.error.hidden = true;
    els.errorText.textContent = "";
  }

  const mm = (value) => String(Math.round(value * 10) / 10);

  // "62 × 18 × 18 mm": the bounding box's size along x, y, z.
  function sizeText(result) {
    const box = result.bbox_mm || {};
    let size = null;
    if (Array.isArray(box.min) && Array.isArray(box.max)) {
      size = box.max.map((high, i) => high - box.min[i]);
    } else if (Array.isArray(result.size_mm) && result.size_mm.every((v) => v != null)) {
      size = result.size_mm;
    }
    return size ? `${size.map(mm).join(" × ")} mm` : "size unknown";
  }

  function cosineRow(pair, value) {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = pair.replace("->", " → ");
    const bar = document.createElement("td");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.max(0, Math.min(1, value)) * 100}%`;
    bar.append(fill);
    const number = document.createElement("td");
    number.className = "num";
    number.textContent = value.toFixed(3);
    row.dataset.pair = pair;
    row.append(name, bar, number);
    return row;
  }

  function isPredicted(result) {
    const missing = !result.category || result.category === "uncategorized";
    return missing && Boolean(result.predicted_category);
  }

  // the category, or for a part without one its predicted kind: "likely spur gear, 72%"
  function kindText(result) {
    if (!isPredicted(result)) return result.category || "uncategorized";
    const words = result.predicted_category.replace(/_/g, " ");
    return `likely ${words}, ${Math.round(100 * Number(result.predicted_score || 0))}%`;
  }

  // "87% match": the result's similarity percentage (docs/similarity.md)
  function showMatch(card, result, calibrated) {
    if (result.similarity_percent == null) return;
    const badge = card.querySelector(".match");
    badge.textContent = `${Math.round(result.similarity_percent)}% match`;
    const score = Number(result.match_score).toFixed(3);
    badge.title = calibrated
      ? `how often a part with this match score (${score}) is of the query's kind, ` +
        "on the model's calibration parts"
      : `uncalibrated: 100 × the match score (${score}); the model has no calibration`;
    badge.classList.toggle("uncalibrated", !calibrated);
    badge.hidden = false;
  }

  function renderCard(result, rank, calibrated) {
    const card = els.card.content.firstElementChild.cloneNode(true);
    card.dataset.partId = result.part_id;
    card.dataset.category = result.category;
    const img = card.querySelector("img");
    const views = result.view_urls || [];
    if (views.length) {
      img.src = views[0];
      img.alt = `${result.name}, first view`;
      img.addEventListener("error", () => card.querySelector(".thumb").classList.add("missing"));
    } else {
      img.remove();
      card.querySelector(".thumb").classList.add("missing");
    }
    card.querySelector(".rank").textContent = `#${rank}`;
    showMatch(card, result, calibrated);
    card.querySelector(".name").textContent = result.name || result.part_id;
    const category = card.querySelector(".category");
    category.textContent = kindText(result);
    if (isPredicted(result)) {
      category.classList.add("predicted");
      category.title = "predicted from the part's views and shape (zero-shot); not a catalog category";
    }
    card.querySelector(".size").textContent = sizeText(result);
    card.querySelector(".part-id").textContent = result.part_id;
    card.querySelector(".part-id").title = result.part_id;
    const score = card.querySelector("[data-testid=card-score]");
    score.textContent = Number(result.score).toFixed(4);
    // the score picks which parts make the page; the match percentage orders them
    // (docs/similarity.md#page-order), so scores need not fall down the page
    const order = "; it chose the parts of this page, which are ordered by match";
    if (result.maxsim != null) {
      card.querySelector(".score-label").textContent = "Rerank score";
      score.title =
        "MaxSim: the sum over the query's views of the best cosine to this part's views " +
        `(${Number(result.maxsim).toFixed(4)}), plus any geometry term` + order;
    } else {
      score.title = `fused score (${els.fusion.value})` + order;
    }
    const rows = card.querySelector(".cosines tbody");
    for (const [pair, value] of Object.entries(result.cosines || {})) {
      rows.append(cosineRow(pair, value));
    }
    if (result.duplicates > 0) showDuplicates(card, result);
    const label = result.name || result.part_id;
    const more = card.querySelector(".more");
    more.setAttribute("aria-label", `More like ${label}`);
    more.addEventListener("click", () => moreLikeThis(result));
    const view = card.querySelector(".view-3d");
    view.hidden = !result.mesh_url; // parts indexed before meshes were kept have none
    view.setAttribute("aria-label", `3D view of ${label}`);
    view.addEventListener("click", () => view3d(result, rank));
    const compare = card.querySelector(".compare");
    compare.hidden = false;
    compare.setAttribute("aria-label", `Compare ${label}`);
    compare.addEventListener("click", () => compareWith(result));
    return card;
  }

  // "2 duplicates" on a result in a duplicate group; its link lists them with their relations
  function showDuplicates(card, result) {
    const n = result.duplicates;
    const badge = card.querySelector(".dup-badge");
    badge.textContent = `${n} duplicate${n === 1 ? "" : "s"}`;
    badge.title = "parts the latest duplicate check found to be this part, its mirror or scaled";
    badge.hidden = false;
    const box = card.querySelector(".dups");
    const link = box.querySelector(".dup-link");
    const list = box.querySelector(".dup-list");
    box.hidden = false;
    link.href = `/v1/parts/${encodeURIComponent(result.part_id)}/duplicates`;
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      if (!list.hidden) {
        list.hidden = true;
        link.textContent = "Show duplicates";
        return;
      }
      try {
        const answer = await callApi(link.getAttribute("href"));
        list.replaceChildren(
          ...answer.duplicates.map((d) => {
            const item = document.createElement("li");
            const scale = d.scale != null && d.relation === "scaled" ? ` ×${d.scale}` : "";
            item.textContent = `${d.name || d.part_id}: ${d.relation.replace(/_/g, " ")}${scale}`;
            item.title = d.part_id;
            return item;
          }),
        );
        list.hidden = false;
        link.textContent = "Hide duplicates";
      } catch (err) {
        showError(`Duplicates could not be loaded: ${err.message}`);
      }
    });
  }

  function renderResults(answer, query) {
    shown = { answer, query };
    const results = answer.results || [];
    const calibrated = answer.similarity_calibrated !== false;
    els.results.replaceChildren(...results.map((r, i) => renderCard(r, i + 1, calibrated)));
    const what = (answer.modalities || []).map((m) => (m === "part_id" ? "similar part" : m));
    const took = answer.took_ms != null ? ` in ${Math.round(answer.took_ms)} ms` : "";
    els.status.textContent = results.length
      ? `${results.length} result${results.length === 1 ? "" : "s"} for ${what.join(" + ")}${took}.`
      : "No parts match this search and these filters.";
  }

  function setLike(part) {
    likePart = part;
    els.like.hidden = !part;
    els.likeName.textContent = part ? part.name || part.part_id : "";
  }

  // -- actions -------------------------------------------------------------------------------------

  async function search() {
    const seq = ++searchSeq;
    clearError();
    els.button.disabled = true;
    els.results.setAttribute("aria-busy", "true");
    els.status.textContent = "Searching…";
    // what the compare view shows as the query, as it was when the search ran
    const query = { mesh: els.mesh.files[0] || null, like: likePart && { ...likePart } };
    try {
      const answer = await callApi("/v1/search", searchRequest());
      if (seq === searchSeq) renderResults(answer, query);
    } catch (err) {
      if (seq !== searchSeq) return;
      showError(err.message);
      els.results.replaceChildren();
      els.status.textContent = "The search did not run.";
    } finally {
      if (seq === searchSeq) {
        els.button.disabled = false;
        els.results.removeAttribute("aria-busy");
      }
    }
  }

  function moreLikeThis(result) {
    els.text.value = "";
    els.image.value = "";
    els.mesh.value = "";
    setLike({ part_id: result.part_id, name: result.name });
    window.scrollTo({ top: 0, behavior: "smooth" });
    search();
  }

  // -- 3D view and compare (viewer.js) -------------------------------------------------------------

  // three.js is vendored at setup (make vendor); without it, or without WebGL, the page works
  // as before minus the 3D and Compare buttons, and says why in the console.
  async function loadViewer() {
    try {
      const status = await (await fetch("/ui/vendor.json")).json();
      if (!status.available) {
        console.warn(`cadsearch: ${status.reason}`);
        return;
      }
      const module = await import("/ui/viewer.js");
      if (!module.webglAvailable()) {
        console.warn("cadsearch: this browser has no WebGL: no 3D viewer");
        return;
      }
      viewer = { module, dialog: new module.Viewer(els.viewer, els.pane) };
      document.body.classList.add("has-viewer");
    } catch (err) {
      console.warn(`cadsearch: the 3D viewer did not load (${err.message})`);
    }
  }

  const percent = (result) =>
    result.similarity_percent == null ? "" : `${Math.round(result.similarity_percent)}% match`;

  // A result as a viewer pane: its mesh, sorted extents, match and the cosine of every pair.
  function resultPane(result, role) {
    const match = [percent(result)];
    if (result.match_score != null) match.push(`match score ${Number(result.match_score).toFixed(3)}`);
    return {
      role,
      title: result.name || result.part_id,
      partId: result.part_id,
      source: result.mesh_url ? { url: result.mesh_url } : null,
      extents: result.extents_mm,
      note: result.mesh_url ? "" : "No 3D mesh is stored for this part (indexed before meshes were kept).",
      match: match.filter(Boolean).join(" · "),
      scores: Object.entries(result.cosines || {}).map(([pair, value]) => cosineRow(pair, value)),
    };
  }

  function rankOf(result) {
    return shown ? shown.answer.results.indexOf(result) + 1 : 0;
  }

  function view3d(result, rank) {
    if (!viewer) return;
    viewer.dialog.show([resultPane(result, `Result #${rank}`)], { title: result.name || result.part_id });
  }

  // The query as a pane: the "more like this" part, or the uploaded file (drawn when the browser
  // reads its format), with the query's sizes as the service measured them.
  async function queryPane(query, answer) {
    if (query.like) {
      const part = await callApi(`/v1/parts/${encodeURIComponent(query.like.part_id)}`);
      return {
        role: "Query part",
        title: part.name || part.part_id,
        partId: part.part_id,
        source: part.mesh_url ? { url: part.mesh_url } : null,
        extents: part.extents_mm,
        note: part.mesh_url ? "" : "No 3D mesh is stored for this part (indexed before meshes were kept).",
        query: true,
      };
    }
    const file = query.mesh;
    const kind = viewer.module.suffixOf(file.name);
    const drawable = viewer.module.DRAWABLE.includes(kind);
    return {
      role: "Query file",
      title: file.name,
      source: drawable ? { file } : null,
      extents: answer.query_extents_mm || null,
      note: drawable
        ? ""
        : `.${kind} files are not drawn in the browser: the sizes are the service's measure.`,
      query: true,
    };
  }

  // The query part (a 3D file or "more like this") beside the result; for a text or image query
  // the result beside another result (the top one, or the one chosen in the dialog).
  async function compareWith(result) {
    if (!viewer || !shown) return;
    const { answer, query } = shown;
    const title = `Compare: ${result.name || result.part_id}`;
    const right = resultPane(result, `Result #${rankOf(result)}`);
    if (query.like || query.mesh) {
      try {
        await viewer.dialog.show([await queryPane(query, answer), right], { title });
      } catch (err) {
        showError(`The query part could not be shown: ${err.message}`);
      }
      return;
    }
    const others = answer.results.filter((r) => r !== result);
    if (!others.length) return;
    const showWith = (partId) => {
      const other = others.find((r) => r.part_id === partId) || others[0];
      viewer.dialog.show([resultPane(other, `Result #${rankOf(other)}`), right], {
        title,
        others: others.map((r) => ({
          value: r.part_id,
          label: `#${rankOf(r)} ${r.name || r.part_id}`,
        })),
        chosen: other.part_id,
        onOther: showWith,
      });
    };
    showWith(others[0].part_id);
  }

  async function loadFacets() {
    try {
      const answer = await callApi("/v1/facets");
      const counts = (answer.facets && answer.facets.category) || {};
      const chosen = els.category.value;
      const all = document.createElement("option");
      all.value = "";
      all.textContent = `All categories (${answer.total})`;
      const options = Object.keys(counts)
        .filter((name) => counts[name] > 0) // Qdrant Edge lists deleted values with count 0
        .sort()
        .map((name) => {
          const option = document.createElement("option");
          option.value = name;
          option.textContent = `${name} (${counts[name]})`;
          return option;
        });
      els.category.replaceChildren(all, ...options);
      if (chosen in counts) els.category.value = chosen;
      els.category.dataset.loaded = "true";
    } catch (err) {
      showError(`Categories could not be loaded: ${err.message}`);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  form.addEventListener("reset", () => {
    setLike(null);
    clearError();
    // the API key is not part of a query: keep it (reset runs after this handler)
    setTimeout(() => {
      els.apiKey.value = sessionStorage.getItem(KEY_STORAGE) || "";
    });
  });
  $("like-clear").addEventListener("click", () => setLike(null));
  $("error-close").addEventListener("click", clearError);
  els.apiKey.value = sessionStorage.getItem(KEY_STORAGE) || "";
  els.apiKey.addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORAGE, els.apiKey.value.trim());
    loadFacets();
  });
  loadFacets();
  loadViewer();
})();
