/*
 * 防災チャットボット web widget.
 *
 *   <script src="https://<officials host>/widget.js" data-server="https://<rasa host>"
 *           data-title="防災チャット" defer></script>
 *
 * Talks to Rasa's socket.io channel (events session_request / session_confirm / user_uttered /
 * bot_uttered) with the official socket.io client, which starts with HTTP long-polling and upgrades
 * to WebSocket when it can: the widget keeps working behind municipal proxies that block WebSocket.
 * Everything the bot or the user says is rendered with textContent, never as HTML.
 *
 * The officials' app serves this file inside one function together with the socket.io client
 * (`io`, from npm) and Japan's extent (`JAPAN_BOUNDS`, from gis/extent.py): see
 * bot/widget/routes.py. Nothing is added to the page's global scope but the flag below.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__bosaiWidgetLoaded) return;
  window.__bosaiWidgetLoaded = true;

  var scriptUrl = new URL(script.src, document.baseURI);
  var server = (script.getAttribute("data-server") || "").replace(/\/+$/, "");
  var officials = (script.getAttribute("data-officials") || scriptUrl.origin).replace(/\/+$/, "");
  var title = script.getAttribute("data-title") || "防災チャット";
  var socketPath = script.getAttribute("data-socket-path") || "/socket.io/";
  var storageKey = "bosai-widget:" + server;
  var MAX_TEXT = 1000;
  var MAX_PHOTO = 10 * 1024 * 1024;
  var LOCATION_PAYLOAD = "/share_location";

  // ------------------------------------------------------------------ storage
  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey) || "{}") || {};
    } catch (e) {
      return {};
    }
  }
  function save(state) {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(state));
    } catch (e) { /* private mode: session lasts for this page only */ }
  }
  var state = load();
  if (!Array.isArray(state.history)) state.history = [];

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
      }
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: officials + "/widget/widget.css" });
  document.head.appendChild(css);

  var uid = "bosai-w-" + Math.random().toString(36).slice(2, 8);
  var root = el("div", { "class": "bosai-w", lang: "ja" });
  var launcher = el("button", {
    type: "button", "class": "bosai-w-launcher", "aria-expanded": "false",
    "aria-controls": uid + "-panel"
  }, title);
  var panel = el("section", {
    id: uid + "-panel", "class": "bosai-w-panel", role: "dialog",
    "aria-labelledby": uid + "-title", hidden: ""
  });
  var header = el("div", { "class": "bosai-w-header" });
  var heading = el("h2", { id: uid + "-title", "class": "bosai-w-title" }, title);
  var closeBtn = el("button", { type: "button", "class": "bosai-w-close", "aria-label": "閉じる" }, "×");
  header.appendChild(heading);
  header.appendChild(closeBtn);
  var notice = el("p", { "class": "bosai-w-emergency" },
    "命に関わる緊急時は 119（消防・救急）・110（警察）へ電話してください。");
  var log = el("div", {
    "class": "bosai-w-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "会話", tabindex: "0"
  });
  var replies = el("div", { "class": "bosai-w-replies", role: "group", "aria-label": "返信の候補" });
  var status = el("p", { "class": "bosai-w-status", role: "status", "aria-live": "polite" });
  var form = el("form", { "class": "bosai-w-form" });
  var inputLabel = el("label", { "for": uid + "-input", "class": "bosai-w-sr" }, "メッセージ");
  var input = el("textarea", {
    id: uid + "-input", "class": "bosai-w-input", rows: "2", maxlength: String(MAX_TEXT),
    placeholder: "メッセージを入力", autocomplete: "off"
  });
  var sendBtn = el("button", { type: "submit", "class": "bosai-w-send" }, "送信");
  var tools = el("div", { "class": "bosai-w-tools" });
  var locBtn = el("button", { type: "button", "class": "bosai-w-location" }, "現在地を送る");
  var photoLabel = el("label", { "for": uid + "-photo", "class": "bosai-w-photo" }, "写真を送る");
  var photoInput = el("input", {
    id: uid + "-photo", type: "file", accept: "image/jpeg,image/png", "class": "bosai-w-file"
  });
  tools.appendChild(locBtn);
  tools.appendChild(photoInput);
  tools.appendChild(photoLabel);
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(header);
  panel.appendChild(notice);
  panel.appendChild(log);
  panel.appendChild(replies);
  panel.appendChild(status);
  panel.appendChild(form);
  panel.appendChild(tools);
  root.appendChild(launcher);
  root.appendChild(panel);
  document.body.appendChild(root);

  function setStatus(text) { status.textContent = text; }

  function addBubble(who, text, remember) {
    var item = el("div", { "class": "bosai-w-msg bosai-w-" + who });
    var label = el("span", { "class": "bosai-w-sr" }, who === "bot" ? "ボット: " : "あなた: ");
    var body = el("span", { "class": "bosai-w-text" }, text);
    item.appendChild(label);
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (remember !== false) {
      state.history.push({ who: who, text: text });
      if (state.history.length > 60) state.history = state.history.slice(-60);
      save(state);
    }
  }

  function clearReplies() {
    while (replies.firstChild) replies.removeChild(replies.firstChild);
  }

  function showReplies(list, wantsLocation) {
    clearReplies();
    var hasLocation = false;
    (list || []).forEach(function (qr) {
      if (!qr || typeof qr.title !== "string" || typeof qr.payload !== "string") return;
      var isLocation = qr.payload.trim() === LOCATION_PAYLOAD;
      hasLocation = hasLocation || isLocation;
      var b = el("button", { type: "button", "class": "bosai-w-reply" }, qr.title);
      b.addEventListener("click", function () {
        if (isLocation) { sendLocation(); return; }
        clearReplies();
        addBubble("user", qr.title);
        emitMessage(qr.payload);
      });
      replies.appendChild(b);
    });
    if (wantsLocation && !hasLocation) {
      var lb = el("button", { type: "button", "class": "bosai-w-reply" }, "現在地を送る");
      lb.addEventListener("click", sendLocation);
      replies.appendChild(lb);
    }
  }

  // ------------------------------------------------------------------ conversation
  var client = null;
  var confirmed = false; // the server knows this connection's session
  var pending = [];      // typed before the session was confirmed

  function emitMessage(text) {
    if (!confirmed) { pending.push(text); return; }
    client.emit("user_uttered", { message: text, session_id: state.session_id });
  }

  function onSession(data) {
    var sid = typeof data === "string" ? data : (data && data.session_id);
    if (typeof sid !== "string" || !sid) return;
    state.session_id = sid;
    save(state);
    confirmed = true;
    var queued = pending;
    pending = [];
    queued.forEach(emitMessage);
  }

  function onBot(data) {
    if (!data || typeof data !== "object") return;
    if (typeof data.text === "string" && data.text) addBubble("bot", data.text);
    if (data.attachment && data.attachment.type === "image" && data.attachment.payload &&
        typeof data.attachment.payload.src === "string" &&
        /^https?:\/\//.test(data.attachment.payload.src)) {
      var img = el("img", { "class": "bosai-w-image", alt: "ボットからの画像",
                            src: data.attachment.payload.src });
      log.appendChild(img);
    }
    var qr = Array.isArray(data.quick_replies) ? data.quick_replies
      : (Array.isArray(data.buttons) ? data.buttons : []);
    if (qr.length || data.location_request) showReplies(qr, !!data.location_request);
  }

  function connect() {
    if (client) return;
    if (!server) { setStatus("設定エラー: data-server がありません。"); return; }
    client = io(server, {
      path: socketPath,
      transports: ["polling", "websocket"], // polling first: passes proxies without WebSocket
      withCredentials: false,
      reconnectionDelayMax: 30000
    });
    function waiting() { confirmed = false; setStatus("接続しています…"); }
    client.on("connect", function () { // also after every reconnection: join the session again
      setStatus("");
      client.emit("session_request", { session_id: state.session_id || null });
    });
    client.on("session_confirm", onSession);
    client.on("bot_uttered", onBot);
    client.on("disconnect", waiting);
    client.on("connect_error", waiting);
  }

  function sendText(text) {
    text = text.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    if (text.length > MAX_TEXT) { setStatus("メッセージが長すぎます（" + MAX_TEXT + "文字まで）。"); return; }
    // typed text never becomes an intent: a leading "/" is replaced by the full-width "／"
    if (text.charAt(0) === "/") text = "／" + text.slice(1);
    clearReplies();
    addBubble("user", text);
    emitMessage(text);
  }

  function sendLocation() {
    if (!navigator.geolocation) { setStatus("この端末では位置情報を使えません。住所や目印を入力してください。"); return; }
    setStatus("現在地を取得しています…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lon = pos.coords.longitude;
      if (!(lon >= JAPAN_BOUNDS[0] && lat >= JAPAN_BOUNDS[1] && lon <= JAPAN_BOUNDS[2] && lat <= JAPAN_BOUNDS[3])) {
        setStatus("現在地が日本の範囲の外のようです。位置は送りませんでした。住所や目印を入力してください。");
        return;
      }
      setStatus("");
      clearReplies();
      addBubble("user", "現在地を送りました");
      emitMessage(LOCATION_PAYLOAD + JSON.stringify({ latitude: lat, longitude: lon }));
    }, function () {
      setStatus("現在地を取得できませんでした。位置情報の利用を許可するか、住所や目印を入力してください。");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function sendPhoto(file) {
    if (!file) return;
    if (!/^image\/(jpeg|png)$/.test(file.type)) { setStatus("JPEG か PNG の写真を選んでください。"); return; }
    if (file.size > MAX_PHOTO) { setStatus("写真が大きすぎます（10MBまで）。"); return; }
    setStatus("写真を送っています…");
    var fd = new FormData();
    fd.append("photo", file, "photo");
    fetch(officials + "/widget/photo", { method: "POST", body: fd, mode: "cors", credentials: "omit" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok || !res.body || typeof res.body.photo_ref !== "string") throw new Error("upload");
        setStatus("");
        addBubble("user", "写真を送りました");
        emitMessage("/share_photo" + JSON.stringify({ photo_ref: res.body.photo_ref }));
      })
      .catch(function () { setStatus("写真を送れませんでした。もう一度お試しください。"); });
  }

  // ------------------------------------------------------------------ open / close
  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("bosai-w-open");
    state.open = true;
    save(state);
    connect();
    input.focus();
  }
  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("bosai-w-open");
    state.open = false;
    save(state);
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) openPanel(); else closePanel(); });
  closeBtn.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") closePanel(); });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    sendText(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  locBtn.addEventListener("click", sendLocation);
  photoInput.addEventListener("change", function () {
    sendPhoto(photoInput.files && photoInput.files[0]);
    photoInput.value = "";
  });

  state.history.forEach(function (m) {
    if (m && (m.who === "bot" || m.who === "user") && typeof m.text === "string") {
      addBubble(m.who, m.text, false);
    }
  });
  if (state.open) openPanel();
})();
