/* 防災ダッシュボード: officials' single page. All user text goes through textContent (never
 * innerHTML), so report text such as <img src=x onerror=alert(1)> shows as text.
 *
 * Why one file of about 550 lines: it is one closure whose parts (sign-in, filters, map and
 * report list, detail, export, evacuees, notices, inbox, shelters) share the same state (the map
 * and its layers, the selected report, the list cursors, the refresh timers) and the same small
 * helpers (el, api, fmtTime). The page is served as written, without a build step, so splitting
 * it would mean a global namespace or ES modules for that shared state, with no logic separated.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "bosai.officials.token";
  var REFRESH_MS = 30000;
  var COLORS = {
    road_flooded: "#1e88e5", building_damage: "#6d4c41", landslide: "#8d6e63", fire: "#e53935",
    road_blocked: "#fb8c00", river_rising: "#3949ab", power_outage: "#fdd835", water_outage: "#00acc1",
    injured_person: "#d81b60", needs_assistance: "#f06292", missing_contact: "#00897b",
    shelter_status: "#43a047", evacuee: "#7cb342", supply_request: "#8e24aa", other: "#757575"
  };
  var CONGESTION_COLORS = { vacant: "#43a047", moderate: "#fdd835", crowded: "#fb8c00", full: "#e53935", closed: "#616161" };

  var meta = null, me = null, map = null, cluster = null, shelterLayer = null;
  var refreshTimer = null, shelterTimer = null, selectedId = null, nextCursor = null, fitted = false;
  var inboxCursor = null, inboxForm = null, pickTarget = null, pickMarker = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") { node.textContent = attrs[k] == null ? "" : String(attrs[k]); }
        else if (k === "className") { node.className = attrs[k]; }
        else { node.setAttribute(k, attrs[k]); }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  function fmtTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleString("ja-JP", { timeZone: "Asia/Tokyo", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function setStatusLine(text) { $("status-line").textContent = text; }

  function api(path, options) {
    options = options || {};
    var headers = options.headers || {};
    headers["Authorization"] = "Bearer " + token();
    if (options.body && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
    options.headers = headers;
    return fetch(path, options).then(function (resp) {
      if (resp.status === 401) { signOut("トークンが無効です。もう一度サインインしてください。"); throw new Error("unauthorized"); }
      return resp;
    });
  }
  function apiJson(path, options) {
    return api(path, options).then(function (resp) {
      return resp.json().then(function (body) {
        if (!resp.ok) {
          var msg = body && body.error ? body.error.message : ("HTTP " + resp.status);
          var err = new Error(msg); err.status = resp.status; throw err;
        }
        return body;
      });
    });
  }

  // ------------------------------------------------------------------ sign in
  function showSignIn(message) {
    $("app").hidden = true; $("user-box").hidden = true; $("signin").hidden = false;
    $("signin-error").textContent = message || "";
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (refreshTimer) { clearInterval(refreshTimer); refreshTimer = null; }
    showSignIn(message);
  }
  function signIn(tok) {
    sessionStorage.setItem(TOKEN_KEY, tok);
    return fetch("/api/v1/me", { headers: { Authorization: "Bearer " + tok } }).then(function (resp) {
      if (!resp.ok) { sessionStorage.removeItem(TOKEN_KEY); showSignIn("トークンが正しくありません。"); return; }
      return resp.json().then(function (who) { me = who; start(); });
    }).catch(function () { showSignIn("サーバーに接続できません。"); });
  }

  // ------------------------------------------------------------------ filters
  function buildFilters() {
    var status = $("f-status");
    Object.keys(meta.statuses).forEach(function (k) { status.appendChild(el("option", { value: k, text: meta.statuses[k] })); });
    var box = $("f-categories");
    Object.keys(meta.categories).forEach(function (k) {
      var cb = el("input", { type: "checkbox", value: k, id: "f-cat-" + k });
      cb.checked = true;
      var sw = el("span", { className: "swatch" }); sw.style.background = COLORS[k] || "#757575";
      box.appendChild(el("label", { "for": "f-cat-" + k }, cb, sw, meta.categories[k]));
    });
  }
  function selectedCategories() {
    var all = document.querySelectorAll("#f-categories input[type=checkbox]");
    var picked = [];
    for (var i = 0; i < all.length; i++) if (all[i].checked) picked.push(all[i].value);
    $("f-categories-count").textContent = picked.length === all.length ? "（すべて）" : "（" + picked.length + "種）";
    return { picked: picked, all: picked.length === all.length };
  }
  function filterParams() {
    var p = new URLSearchParams();
    var w = $("f-window").value;
    if (w !== "all") p.set("since", new Date(Date.now() - Number(w) * 3600 * 1000).toISOString());
    var st = $("f-status").value; if (st) p.set("status", st);
    var q = $("f-q").disabled ? "" : $("f-q").value.trim(); if (q) p.set("q", q.slice(0, 100));
    var cats = selectedCategories();
    if (!cats.all) {
      if (cats.picked.length === 0) return null;  // nothing selected: no report can match
      cats.picked.forEach(function (c) { p.append("category", c); });
    }
    return p;
  }

  // ------------------------------------------------------------------ reports
  function markerFor(f) {
    var p = f.properties;
    var pin = el("span", { className: "report-pin", "data-report-id": String(p.id), title: p.category_label });
    pin.style.background = COLORS[p.category] || "#757575";
    var icon = L.divIcon({ className: "report-marker cat-" + p.category, html: pin, iconSize: [18, 18], iconAnchor: [9, 9] });
    var m = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: icon, title: p.category_label + " #" + p.id });
    var popup = el("div", { className: "report-popup" },
      el("strong", { text: p.category_label + "（" + p.status_label + "）" }), el("br"),
      el("span", { text: fmtTime(p.reported_at) }), el("br"),
      el("span", { className: "popup-text", text: (p.text || "").slice(0, 200) }));
    m.bindPopup(popup);
    m.on("click", function () { showDetail(p.id); });
    return m;
  }
  function renderReports(features, append) {
    var tbody = document.querySelector("#report-list tbody");
    if (!append) { clear(tbody); cluster.clearLayers(); }
    var markers = [];
    features.forEach(function (f) {
      var p = f.properties;
      var tr = el("tr", { "data-report-id": String(p.id) },
        el("td", { text: fmtTime(p.reported_at) }),
        el("td", {}, (function () { var s = el("span", { className: "swatch" }); s.style.background = COLORS[p.category] || "#757575"; return s; })(), p.category_label),
        el("td", {}, el("span", { className: "badge st-" + p.status, text: p.status_label })),
        el("td", { className: "text", text: p.text || p.place_text || "" }));
      if (p.id === selectedId) tr.className = "selected";
      tr.addEventListener("click", function () { showDetail(p.id); });
      tbody.appendChild(tr);
      if (f.geometry) markers.push(markerFor(f));
    });
    cluster.addLayers(markers);
    var rows = tbody.querySelectorAll("tr").length;
    $("list-count").textContent = "（" + rows + "件" + (nextCursor ? "以上" : "") + "）";
    $("more").hidden = !nextCursor;
    if (!fitted && markers.length) {
      fitted = true;
      map.fitBounds(cluster.getBounds(), { padding: [30, 30], maxZoom: 14 });
    }
  }
  function loadReports(append) {
    var p = filterParams();
    if (p === null) { nextCursor = null; renderReports([], false); setStatusLine("種別が選択されていません。"); return Promise.resolve(); }
    p.set("limit", "500");
    if (append && nextCursor) p.set("cursor", nextCursor);
    return apiJson("/api/v1/reports?" + p.toString()).then(function (fc) {
      nextCursor = fc.next_cursor || null;
      renderReports(fc.features, append);
      setStatusLine("最終更新 " + new Date().toLocaleTimeString("ja-JP"));
    }).catch(function (e) { if (e.message !== "unauthorized") setStatusLine("報告を読み込めません: " + e.message); });
  }

  // ------------------------------------------------------------------ detail
  function field(dl, label, value) {
    if (value == null || value === "" || (Array.isArray(value) && value.length === 0)) return;
    dl.appendChild(el("dt", { text: label }));
    dl.appendChild(el("dd", { text: Array.isArray(value) ? value.join("、") : String(value) }));
  }
  function showDetail(id) {
    selectedId = id;
    var rows = document.querySelectorAll("#report-list tbody tr");
    for (var i = 0; i < rows.length; i++) rows[i].className = rows[i].getAttribute("data-report-id") === String(id) ? "selected" : "";
    return apiJson("/api/v1/reports/" + encodeURIComponent(id)).then(function (body) { renderDetail(body.report); })
      .catch(function (e) { if (e.message !== "unauthorized") setStatusLine("報告を表示できません: " + e.message); });
  }
  function renderDetail(r) {
    $("detail").hidden = false;
    $("d-id").textContent = String(r.id);
    var dl = $("d-fields"); clear(dl);
    field(dl, "種別", r.category_label);
    field(dl, "状態", r.status_label);
    field(dl, "緊急度", r.urgency_label);
    field(dl, "日時", fmtTime(r.reported_at));
    field(dl, "内容", r.text);
    field(dl, "場所", r.place_text);
    if (r.lat != null) field(dl, "位置", r.lat.toFixed(5) + ", " + r.lon.toFixed(5) + (r.accuracy_m != null ? "（±" + Math.round(r.accuracy_m) + "m）" : ""));
    field(dl, "人数", r.headcount);
    field(dl, "必要なもの", (r.needs || []).map(function (n) { return (meta.supplies && meta.supplies[n]) || n; }));
    field(dl, "避難所ID", r.shelter_id);
    field(dl, "経路", r.channel);
    field(dl, "重複元", r.duplicate_of ? "#" + r.duplicate_of : null);
    var photos = $("d-photos"); clear(photos);
    // viewers get no photos (a face or a house number), only how many there are
    if (r.photo_count && !(r.photo_urls || []).length) {
      photos.appendChild(el("p", { text: "写真 " + r.photo_count + " 枚（閲覧者の権限では表示されません）" }));
    }
    (r.photo_urls || []).forEach(function (url) {
      api(url).then(function (resp) { return resp.ok ? resp.blob() : null; }).then(function (blob) {
        if (!blob) return;
        photos.appendChild(el("img", { src: URL.createObjectURL(blob), alt: "報告の写真" }));
      }).catch(function () {});
    });
    var hist = $("d-history"); clear(hist);
    (r.history || []).forEach(function (h) {
      var line = fmtTime(h.at) + " " + (h.old_status ? meta.statuses[h.old_status] + " → " : "") + meta.statuses[h.new_status] + "（" + h.by + "）" + (h.note ? " " + h.note : "");
      hist.appendChild(el("li", { text: line }));
    });
    var canChange = me && (me.role === "operator" || me.role === "admin");
    var allowed = meta.transitions[r.status] || [];
    $("d-form").hidden = !canChange || allowed.length === 0;
    $("d-readonly").hidden = canChange;
    $("d-error").textContent = "";
    var sel = $("d-status"); clear(sel);
    allowed.forEach(function (s) { sel.appendChild(el("option", { value: s, text: meta.statuses[s] })); });
    $("d-dup-label").hidden = sel.value !== "duplicate";
    $("d-form").setAttribute("data-report-id", String(r.id));
  }
  function submitStatus(ev) {
    ev.preventDefault();
    var id = $("d-form").getAttribute("data-report-id");
    var body = { status: $("d-status").value };
    var note = $("d-note").value.trim(); if (note) body.note = note;
    if (body.status === "duplicate") body.duplicate_of = Number($("d-dup").value);
    apiJson("/api/v1/reports/" + encodeURIComponent(id), { method: "PATCH", body: JSON.stringify(body) })
      .then(function (res) { $("d-note").value = ""; renderDetail(res.report); setStatusLine("報告 #" + id + " を「" + res.report.status_label + "」にしました。"); return loadReports(false); })
      .catch(function (e) { $("d-error").textContent = e.message; });
  }

  // ------------------------------------------------------------------ export
  function exportAs(fmt) {
    var p = filterParams();
    if (p === null) { setStatusLine("種別が選択されていません。"); return; }
    p.set("format", fmt); p.set("limit", "5000");
    api("/api/v1/reports?" + p.toString()).then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.blob();
    }).then(function (blob) {
      var stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
      var a = el("a", { href: URL.createObjectURL(blob), download: "reports-" + stamp + (fmt === "csv" ? ".csv" : ".geojson") });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(function (e) { if (e.message !== "unauthorized") setStatusLine("出力できません: " + e.message); });
  }

  // ------------------------------------------------------------------ evacuees
  function loadEvacuees() {
    return apiJson("/api/v1/evacuees/summary").then(function (s) {
      $("ev-total").textContent = "登録 " + s.total.registrations + "件・" + s.total.people + "人";
      var tbody = document.querySelector("#ev-table tbody"); clear(tbody);
      Object.keys(s.by_place_type).forEach(function (k) {
        var v = s.by_place_type[k];
        tbody.appendChild(el("tr", {}, el("td", { text: meta.place_types[k] || k }), el("td", { text: String(v.registrations) }), el("td", { text: String(v.people) })));
      });
      $("ev-help").textContent = "支援が必要な世帯 " + s.total.households_needing_help + "（うち医療 " + s.total.households_with_medical_needs + "）";
    }).catch(function () {});
  }

  // ------------------------------------------------------------------ notices
  var CHANNEL_NAMES = { line: "LINE", telegram: "Telegram" };
  function renderNotices(list) {
    var ol = $("n-list"); clear(ol);
    if (!list.length) { ol.appendChild(el("li", { className: "note", text: "お知らせはまだありません。" })); return; }
    list.forEach(function (n) {
      var channels = el("div", { className: "n-channels" });
      Object.keys(n.broadcast || {}).forEach(function (ch) {
        var o = n.broadcast[ch];
        channels.appendChild(el("span", { className: "badge bc-" + o.status, "data-channel": ch, title: o.detail || "",
          text: (CHANNEL_NAMES[ch] || ch) + ": " + ((meta.broadcast_statuses && meta.broadcast_statuses[o.status]) || o.status) }));
      });
      if (!channels.firstChild) channels.appendChild(el("span", { className: "note", text: "配信なし（保存のみ）" }));
      ol.appendChild(el("li", { "data-notice-id": String(n.id) },
        el("span", { className: "badge sev-" + n.severity, text: (meta.notice_severities && meta.notice_severities[n.severity]) || n.severity }), " ",
        el("span", { className: "n-title", text: n.title }),
        el("div", { className: "n-body", text: n.body }),
        el("div", { className: "note", text: fmtTime(n.created_at) + "（" + n.created_by + "）" }),
        channels));
    });
  }
  function loadNotices() {
    return apiJson("/api/v1/notices?limit=20").then(function (body) { renderNotices(body.notices); })
      .catch(function (e) { if (e.message !== "unauthorized") $("n-error").textContent = "お知らせを読み込めません: " + e.message; });
  }
  function submitNotice(ev) {
    ev.preventDefault();
    var body = { title: $("n-title").value.trim(), body: $("n-body").value.trim(), severity: $("n-severity").value, broadcast: $("n-broadcast").checked };
    if (!body.title || !body.body) { $("n-error").textContent = "件名と本文を入力してください。"; return; }
    if (body.broadcast && !window.confirm("「" + body.title + "」を LINE・Telegram で住民に配信します。よろしいですか？")) return;
    $("n-send").disabled = true; $("n-error").textContent = "";
    apiJson("/api/v1/notices", { method: "POST", body: JSON.stringify(body) }).then(function (res) {
      $("n-title").value = ""; $("n-body").value = ""; $("n-severity").value = "info"; $("n-broadcast").checked = true;
      var failed = Object.keys(res.notice.broadcast || {}).filter(function (ch) { return res.notice.broadcast[ch].status === "failed"; });
      setStatusLine("お知らせ「" + res.notice.title + "」を" + (body.broadcast ? "配信しました" : "保存しました") +
        (failed.length ? "（失敗: " + failed.map(function (ch) { return CHANNEL_NAMES[ch] || ch; }).join("、") + "）" : "") + "。");
      return loadNotices();
    }).catch(function (e) { $("n-error").textContent = e.message; })
      .then(function () { $("n-send").disabled = false; });
  }
  function setupNotices() {
    var canSend = me && (me.role === "operator" || me.role === "admin");
    $("n-form").hidden = !canSend;
    $("n-readonly").hidden = canSend;
  }

  // ------------------------------------------------------------------ inbox (未対応メッセージ)
  function canOperate() { return me && (me.role === "operator" || me.role === "admin"); }
  function inboxItem(m) {
    var head = el("div", { className: "i-head" });
    if (m.danger) head.appendChild(el("span", { className: "badge i-danger", text: "危険" }));
    if (m.has_place) head.appendChild(el("span", { className: "badge i-place", text: "場所あり" }));
    head.appendChild(el("span", { className: "badge i-reason", text: m.reason_label || m.reason }));
    head.appendChild(el("span", { className: "note", text: fmtTime(m.received_at) + "・" + m.channel + "・#" + m.id }));
    var li = el("li", { className: "inbox-item" + (m.danger ? " danger" : ""), "data-message-id": String(m.id) }, head,
      el("div", { className: "i-text", text: m.text }));
    if (m.danger_terms && m.danger_terms.length) li.appendChild(el("div", { className: "note i-terms", text: "危険の語: " + m.danger_terms.join("、") }));
    if (m.place_text) li.appendChild(el("div", { className: "i-where", text: "場所: " + m.place_text }));
    if (m.lat != null) li.appendChild(el("div", { className: "i-where", text: "位置: " + m.lat.toFixed(5) + ", " + m.lon.toFixed(5) }));
    var toReport = el("button", { type: "button", className: "i-report", text: "報告にする" });
    var handled = el("button", { type: "button", className: "i-handled", text: "対応済みにする" });
    toReport.addEventListener("click", function () { openInboxForm(li, m); });
    handled.addEventListener("click", function () { markHandled(m, handled); });
    li.appendChild(el("div", { className: "i-actions" }, toReport, handled));
    return li;
  }
  function renderInbox(body, append) {
    var ol = $("inbox-list");
    if (!append) clear(ol);
    body.messages.forEach(function (m) { ol.appendChild(inboxItem(m)); });
    if (!ol.firstChild) ol.appendChild(el("li", { className: "note i-empty", text: "未対応のメッセージはありません。" }));
    var count = $("inbox-count");
    count.textContent = String(body.unhandled);
    count.className = "badge inbox-count" + (body.unhandled ? "" : " zero");
    $("inbox-more").hidden = !inboxCursor;
  }
  function loadInbox(append, force) {
    if (!canOperate()) return Promise.resolve();
    if (inboxForm && !force && !append) return Promise.resolve();  // do not wipe a form being filled in
    var p = new URLSearchParams({ handled: "false", limit: "50" });
    if (append && inboxCursor) p.set("cursor", inboxCursor);
    return apiJson("/api/v1/messages?" + p.toString()).then(function (body) {
      inboxCursor = body.next_cursor || null;
      if (!append) closeInboxForm();  // the list is rebuilt: an open form would be left detached
      renderInbox(body, append);
    }).catch(function (e) { if (e.message !== "unauthorized") setStatusLine("未対応メッセージを読み込めません: " + e.message); });
  }
  function stopPicking() {
    pickTarget = null;
    $("map").classList.remove("picking");
  }
  function showPick(lat, lon) {
    if (pickMarker) { pickMarker.setLatLng([lat, lon]); return; }
    var icon = L.divIcon({ className: "inbox-pick", html: el("span", { className: "inbox-pick-pin" }), iconSize: [20, 20], iconAnchor: [10, 10] });
    pickMarker = L.marker([lat, lon], { icon: icon, title: "報告の位置", zIndexOffset: 1000 }).addTo(map);
  }
  function closeInboxForm() {
    stopPicking();
    if (pickMarker) { map.removeLayer(pickMarker); pickMarker = null; }
    if (inboxForm) inboxForm.remove();
    inboxForm = null;
  }
  function openInboxForm(li, m) {
    closeInboxForm();
    var cat = el("select", { className: "i-category", "aria-label": "種別" }, el("option", { value: "", text: "種別を選択" }));
    Object.keys(meta.categories).forEach(function (k) { cat.appendChild(el("option", { value: k, text: meta.categories[k] })); });
    var urg = el("select", { className: "i-urgency", "aria-label": "緊急度" });
    Object.keys(meta.urgencies).forEach(function (k) { urg.appendChild(el("option", { value: k, text: meta.urgencies[k] })); });
    urg.value = m.danger ? "critical" : "high";
    var place = el("input", { type: "text", className: "i-place", maxlength: "500", placeholder: "場所（任意）" });
    place.value = m.place_text || "";
    var lat = el("input", { type: "text", className: "i-lat", inputmode: "decimal", placeholder: "緯度", "aria-label": "緯度" });
    var lon = el("input", { type: "text", className: "i-lon", inputmode: "decimal", placeholder: "経度", "aria-label": "経度" });
    if (m.lat != null) { lat.value = String(m.lat); lon.value = String(m.lon); }
    var pick = el("button", { type: "button", className: "i-pick", text: "地図で位置を指定" });
    var cancel = el("button", { type: "button", className: "i-cancel", text: "やめる" });
    var submit = el("button", { type: "submit", className: "i-submit", text: "報告を作成" });
    var error = el("p", { className: "error i-error", role: "alert" });
    var form = el("form", { className: "inbox-form", autocomplete: "off" },
      el("label", {}, "種別 ", cat), el("label", {}, "緊急度 ", urg), place, lat, lon, pick, submit, cancel, error);
    pick.addEventListener("click", function () {
      pickTarget = { lat: lat, lon: lon };
      $("map").classList.add("picking");
      setStatusLine("地図上の報告の位置をクリックしてください。");
    });
    cancel.addEventListener("click", closeInboxForm);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      error.textContent = "";
      if (!cat.value) { error.textContent = "種別を選んでください。"; return; }
      var body = { category: cat.value, urgency: urg.value };
      if (place.value.trim()) body.place_text = place.value.trim();
      var la = lat.value.trim(), lo = lon.value.trim();
      if (la || lo) {
        if (!la || !lo || isNaN(Number(la)) || isNaN(Number(lo))) { error.textContent = "緯度と経度を数値で入力してください。"; return; }
        body.lat = Number(la); body.lon = Number(lo);
      }
      submit.disabled = true;
      apiJson("/api/v1/messages/" + encodeURIComponent(m.id) + "/report", { method: "POST", body: JSON.stringify(body) }).then(function (res) {
        closeInboxForm();
        if (res.report.lat != null) map.setView([res.report.lat, res.report.lon], Math.max(map.getZoom(), 13));
        return Promise.all([loadInbox(false, true), loadReports(false)]).then(function () {
          // after the reload, whose own line ("最終更新") would hide this one
          setStatusLine("メッセージ #" + m.id + " を報告 #" + res.report.id + "（" + res.report.category_label + "）にしました。");
          return showDetail(res.report.id);
        });
      }).catch(function (e) { error.textContent = e.message; submit.disabled = false; });
    });
    li.appendChild(form);
    inboxForm = form;
    if (m.lat != null) { showPick(m.lat, m.lon); map.setView([m.lat, m.lon], Math.max(map.getZoom(), 13)); }
    cat.focus();
  }
  function onMapClick(ev) {
    if (!pickTarget) return;
    pickTarget.lat.value = ev.latlng.lat.toFixed(6);
    pickTarget.lon.value = ev.latlng.lng.toFixed(6);
    showPick(ev.latlng.lat, ev.latlng.lng);
    stopPicking();
    setStatusLine("報告の位置を指定しました。");
  }
  function markHandled(m, button) {
    button.disabled = true;
    apiJson("/api/v1/messages/" + encodeURIComponent(m.id), { method: "PATCH", body: JSON.stringify({ handled: true }) }).then(function () {
      if (inboxForm && inboxForm.parentNode && inboxForm.parentNode.getAttribute("data-message-id") === String(m.id)) closeInboxForm();
      setStatusLine("メッセージ #" + m.id + " を対応済みにしました。");
      return loadInbox(false, true);
    }).catch(function (e) { button.disabled = false; if (e.message !== "unauthorized") setStatusLine("対応済みにできません: " + e.message); });
  }
  function setupInbox() {
    closeInboxForm();
    inboxCursor = null;
    clear($("inbox-list"));
    $("inbox").hidden = !canOperate();
  }

  // ------------------------------------------------------------------ shelters
  function loadShelters() {
    if (map.getZoom() < 11) { shelterLayer.clearLayers(); $("shelter-note").textContent = "避難所は地図を拡大すると表示されます。"; return; }
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return Math.max(-180, Math.min(180, v)).toFixed(5); });
    apiJson("/api/v1/shelters?limit=1000&bbox=" + bbox.join(",")).then(function (fc) {
      shelterLayer.clearLayers();
      fc.features.forEach(function (f) {
        var p = f.properties;
        var color = CONGESTION_COLORS[p.congestion] || (p.status === "open" ? "#43a047" : "#9e9e9e");
        var m = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { radius: 6, color: "#263238", weight: 1, fillColor: color, fillOpacity: 0.9, className: "shelter-marker shelter-" + p.id });
        var state = p.status ? (meta.shelter_states[p.status] + (p.congestion_label ? "・" + p.congestion_label : "")) : "情報なし";
        var shortages = (p.shortages || []).map(function (x) { return meta.supplies[x] || x; }).join("、");
        var box = el("div", { className: "shelter-popup", "data-shelter-id": p.id }, el("strong", { text: p.name }), el("br"), el("span", { text: p.address || "" }), el("br"),
          el("span", { className: "shelter-state", text: "状況: " + state }), shortages ? el("div", { text: "不足: " + shortages }) : null,
          p.status_at ? el("div", { className: "note", text: "更新 " + fmtTime(p.status_at) + "（" + p.status_by + "）" }) : null);
        if (me.role === "operator" || me.role === "admin") box.appendChild(shelterForm(p));
        m.bindPopup(box);
        shelterLayer.addLayer(m);
      });
      $("shelter-note").textContent = "避難所 " + fc.features.length + "か所を表示（色は混雑状況）";
    }).catch(function (e) { if (e.message !== "unauthorized") $("shelter-note").textContent = "避難所の情報を表示できません: " + e.message; });
  }

  function shelterForm(p) {
    var st = el("select", { className: "sh-status" });
    Object.keys(meta.shelter_states).forEach(function (k) { st.appendChild(el("option", { value: k, text: meta.shelter_states[k] })); });
    if (p.status) st.value = p.status;
    var cg = el("select", { className: "sh-congestion" }, el("option", { value: "", text: "混雑度（未設定）" }));
    Object.keys(meta.congestion).forEach(function (k) { if (k !== "closed") cg.appendChild(el("option", { value: k, text: meta.congestion[k] })); });
    if (p.congestion && p.congestion !== "closed") cg.value = p.congestion;
    var sh = el("select", { className: "sh-shortages", multiple: "multiple", size: "4", title: "不足している物資（複数選択可）" });
    Object.keys(meta.supplies).forEach(function (k) {
      var o = el("option", { value: k, text: meta.supplies[k] });
      if ((p.shortages || []).indexOf(k) >= 0) o.selected = true;
      sh.appendChild(o);
    });
    var msg = el("div", { className: "error" });
    var form = el("form", { className: "shelter-form" }, st, cg, sh, el("button", { type: "submit", className: "sh-save", text: "状況を更新" }), msg);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { status: st.value, shortages: Array.prototype.filter.call(sh.options, function (o) { return o.selected; }).map(function (o) { return o.value; }) };
      if (cg.value && st.value === "open") body.congestion = cg.value;
      apiJson("/api/v1/shelters/" + encodeURIComponent(p.id) + "/status", { method: "PUT", body: JSON.stringify(body) })
        .then(function () { map.closePopup(); setStatusLine(p.name + " の状況を更新しました。"); loadShelters(); })
        .catch(function (e) { msg.textContent = e.message; });
    });
    return form;
  }

  // ------------------------------------------------------------------ start
  function refreshAll() { loadReports(false); loadInbox(false); loadEvacuees(); loadNotices(); loadShelters(); }
  function setAuto() {
    if (refreshTimer) { clearInterval(refreshTimer); refreshTimer = null; }
    if ($("f-auto").checked) refreshTimer = setInterval(refreshAll, REFRESH_MS);
  }
  function start() {
    $("signin").hidden = true; $("app").hidden = false; $("user-box").hidden = false;
    $("user-name").textContent = me.name; $("user-role").textContent = { viewer: "閲覧", operator: "担当", admin: "管理者" }[me.role] || me.role;
    // viewers do not see residents' words, so they cannot search them either (docs/privacy.md)
    $("f-q").disabled = !canOperate(); if (!canOperate()) { $("f-q").value = ""; $("f-q").title = "本文の検索は担当（operator）以上"; }
    if (!map) {
      map = L.map("map", { preferCanvas: false }).setView([36.5, 138.0], 5);
      L.tileLayer(meta.tiles_url, { maxZoom: 18, attribution: meta.tiles_attribution }).addTo(map);
      map.attributionControl.addAttribution("出典：国土地理院・国土交通省のオープンデータを加工して作成");
      cluster = L.markerClusterGroup({ maxClusterRadius: 50 });
      map.addLayer(cluster);
      shelterLayer = L.layerGroup().addTo(map);
      map.on("moveend", function () { clearTimeout(shelterTimer); shelterTimer = setTimeout(loadShelters, 400); });
      map.on("click", onMapClick);
    }
    setTimeout(function () { map.invalidateSize(); }, 0);
    setupNotices();
    setupInbox();
    refreshAll();
    setAuto();
  }
  function init() {
    fetch("/api/v1/meta").then(function (r) { return r.json(); }).then(function (m) {
      meta = m;
      var ul = $("attribution-lines");
      m.attribution.forEach(function (line) { ul.appendChild(el("li", { text: line })); });
      ul.appendChild(el("li", { text: "地図：国土地理院（地理院タイル）ほか設定されたタイル / Leaflet" }));
      buildFilters();
      var sev = $("n-severity");
      Object.keys(m.notice_severities || {}).forEach(function (k) { sev.appendChild(el("option", { value: k, text: m.notice_severities[k] })); });
      $("n-form").addEventListener("submit", submitNotice);
      $("signin-form").addEventListener("submit", function (ev) { ev.preventDefault(); signIn($("token").value.trim()); $("token").value = ""; });
      $("signout").addEventListener("click", function () { signOut(""); });
      $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); selectedId = null; loadReports(false); });
      $("f-categories").addEventListener("change", function () { loadReports(false); });
      $("f-window").addEventListener("change", function () { loadReports(false); });
      $("f-status").addEventListener("change", function () { loadReports(false); });
      $("f-reset").addEventListener("click", function () {
        $("f-window").value = "all"; $("f-status").value = ""; $("f-q").value = "";
        var all = document.querySelectorAll("#f-categories input[type=checkbox]");
        for (var i = 0; i < all.length; i++) all[i].checked = true;
        loadReports(false);
      });
      $("f-auto").addEventListener("change", setAuto);
      $("more").addEventListener("click", function () { loadReports(true); });
      $("inbox-more").addEventListener("click", function () { loadInbox(true); });
      $("export-csv").addEventListener("click", function () { exportAs("csv"); });
      $("export-geojson").addEventListener("click", function () { exportAs("geojson"); });
      $("d-form").addEventListener("submit", submitStatus);
      $("d-status").addEventListener("change", function () { $("d-dup-label").hidden = $("d-status").value !== "duplicate"; });
      $("d-close").addEventListener("click", function () { $("detail").hidden = true; selectedId = null; });
      var tok = token();
      if (tok) signIn(tok); else showSignIn("");
    }).catch(function () { showSignIn("サーバーに接続できません。"); });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
